import type { Command } from 'commander';
import { ExitCode } from '../../errors.js';
import type { CommandContext } from '../command-context.js';
import { formatChecks, runChecks } from '../doctor.js';
import { applyFixes } from '../doctor-fix.js';
import { pullOption } from '../options.js';
import type { PullPolicy } from '../../images/image-source.js';

export function doctorCommand(program: Command, { signal, setExitCode }: CommandContext): void {
  pullOption(program.command('doctor')
    .description('check docker, k3d, kind, kubectl, images, free ports and disk; print the fix for each missing piece')
    .argument('[lesson]', 'check only this lesson\'s ports')
    .option('--fix', 'install what can be installed (Debian packages as root, start dockerd, build k3d/kind)'))
    .action(async (lessonId: string | undefined, flags: { fix?: boolean; pull: PullPolicy }) => {
      let checks = await runChecks(lessonId, flags.pull);
      if (flags.fix && checks.some((c) => !c.ok && c.fixId)) {
        await applyFixes(checks, { signal, log: (line) => process.stdout.write(`  ${line}\n`) });
        checks = await runChecks(lessonId, flags.pull);
      }
      process.stdout.write(formatChecks(checks) + '\n');
      const missing = checks.filter((c) => !c.ok && !c.optional);
      setExitCode(missing.length === 0 ? ExitCode.ok : ExitCode.environmentMissing);
    });
}
