import type { Command } from 'commander';
import { ExitCode } from '../../errors.js';
import { findLeftovers } from '../../lab/gc.js';
import type { CommandContext } from '../command-context.js';

export function gcCommand(program: Command, { signal, setExitCode }: CommandContext): void {
  program.command('gc')
    .description('remove what killed runs left: clusters they would have deleted, stale claims and kubeconfigs, temp dirs of processes that are gone')
    .option('--dry-run', 'list what would be removed; remove nothing')
    .action(async (flags: { dryRun?: boolean }) => {
      const leftovers = await findLeftovers(signal);
      if (leftovers.length === 0) process.stdout.write('nothing left behind\n');
      let failed = 0;
      for (const leftover of leftovers) {
        if (flags.dryRun) {
          process.stdout.write(`would remove ${leftover.what}\n`);
          continue;
        }
        await leftover.remove().then(
          () => process.stdout.write(`removed ${leftover.what}\n`),
          (error: Error) => {
            failed += 1;
            process.stderr.write(`kubelab: could not remove ${leftover.what}: ${error.message}\n`);
          },
        );
      }
      setExitCode(failed > 0 ? ExitCode.cleanupFailed : ExitCode.ok);
    });
}
