import type { Command } from 'commander';
import { ExitCode, InputError } from '../../errors.js';
import { forge, formatForgeList, selectItems } from '../../forge/forge.js';
import { forgeItems } from '../../forge/catalog.js';
import { DEFAULT_FORGE_JOBS } from '../../forge/queue.js';
import { detectOutputMode } from '../../report/tasks.js';
import type { CommandContext } from '../command-context.js';

export function forgeCommand(program: Command, { signal, setExitCode }: CommandContext): void {
  program.command('forge')
    .description('build what clusters and lessons need locally (k3d, kind, base images), skipping what is current')
    .argument('[items...]', `only these: ${forgeItems().map((i) => `"${i.name}"`).join(', ')}`)
    .option('--list', 'print every item with its state, size and source versions; build nothing')
    .option('--force', 'rebuild the named items (all when none are named) even when the same inputs were built before')
    .option('--jobs <n>', 'how many items build side by side', String(DEFAULT_FORGE_JOBS))
    .action(async (requested: string[], flags: { list?: boolean; force?: boolean; jobs: string }) => {
      const { names, unknown } = selectItems(requested);
      if (unknown.length > 0) {
        throw new InputError(`forge: unknown item ${unknown.map((n) => `"${n}"`).join(', ')}`, `items: ${forgeItems().map((i) => i.name).join(', ')}`);
      }
      const jobs = Number(flags.jobs);
      if (!Number.isInteger(jobs) || jobs < 1) throw new InputError(`forge: --jobs ${flags.jobs} is not a whole number of at least 1`, 'e.g. --jobs 3');
      if (flags.list) {
        process.stdout.write((await formatForgeList(forgeItems().filter((item) => names.includes(item.name)))) + '\n');
        return;
      }
      const outcomes = await forge(names, { force: Boolean(flags.force), jobs, signal, output: detectOutputMode(false) });
      const failed = outcomes.filter((o) => o.error);
      for (const o of failed) process.stderr.write(`kubelab: ${o.item.name}: ${o.error!.message}\n`);
      setExitCode(failed.length === 0 ? ExitCode.ok : ExitCode.environmentMissing);
    });
}
