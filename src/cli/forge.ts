import type { Command } from 'commander';
import { ExitCode, InputError } from '../errors.js';
import { forge, formatForgeList, selectItems } from '../forge/forge.js';
import { forgeItems } from '../forge/catalog.js';
import { detectOutputMode } from '../report/tasks.js';

export function forgeCommand(program: Command, signal: AbortSignal, setExitCode: (code: number) => void): void {
  program.command('forge')
    .description('build what clusters and lessons need locally (k3d, kind, base images), skipping what is current')
    .argument('[items...]', `only these: ${forgeItems().map((i) => `"${i.name}"`).join(', ')}`)
    .option('--list', 'print every item with its state, size and source versions; build nothing')
    .option('--force', 'rebuild even when the same inputs were built before')
    .action(async (names: string[], flags: { list?: boolean; force?: boolean }) => {
      const { items, unknown } = selectItems(names);
      if (unknown.length > 0) {
        throw new InputError(`forge: unknown item ${unknown.map((n) => `"${n}"`).join(', ')}`, `items: ${forgeItems().map((i) => i.name).join(', ')}`);
      }
      if (flags.list) {
        process.stdout.write((await formatForgeList(items)) + '\n');
        return;
      }
      const outcomes = await forge(items, { force: Boolean(flags.force), signal, output: detectOutputMode(false) });
      const failed = outcomes.filter((o) => o.error);
      for (const o of failed) process.stderr.write(`kubelab: ${o.item.name}: ${o.error!.message}\n`);
      setExitCode(failed.length === 0 ? ExitCode.ok : ExitCode.environmentMissing);
    });
}
