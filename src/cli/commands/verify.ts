import { Option, type Command } from 'commander';
import { PROVIDERS, providerFor } from '../../cluster/registry.js';
import { apiServerVersion } from '../../kube/api-version.js';
import { connect } from '../../kube/client.js';
import { loadLesson } from '../../lab/catalog.js';
import { verifyLesson } from '../../lab/runner.js';
import { detectOutputMode } from '../../report/tasks.js';
import { resolveClusterAccess } from '../access.js';
import type { CommandContext } from '../command-context.js';
import { existingCompanions } from '../companions.js';
import { EXIT_CODES_HELP } from '../exit-codes-help.js';
import { parseSeconds, reportOptions } from '../options.js';
import { clusterSpecFor } from '../../lab/lesson-clusters.js';
import { checkReportTargets } from '../output-paths.js';
import { reportOutcome } from '../report-outcome.js';

export function verifyCommand(program: Command, { signal, setExitCode }: CommandContext): void {
  reportOptions(program.command('verify')
    .description("check only the lesson's assertions against a cluster you built (exit 1 names what is wrong)")
    .argument('<lesson>', 'lesson id or lesson file')
    .option('--kubeconfig <file>', "kubeconfig of the cluster (default: the lesson's kubelab cluster)")
    .option('--context <name>', 'context in that kubeconfig')
    .option('--name <cluster>', "kubelab cluster name (default: the lesson's)")
    .addOption(new Option('--provider <name>', 'provider of the kubelab cluster').choices([...PROVIDERS]))
    .option('--timeout <seconds>', 'how long each assertion may wait', '60'))
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (id: string, flags) => {
      await checkReportTargets(flags);
      const assertionTimeoutMs = parseSeconds(flags.timeout, '--timeout'); // every flag is checked before the cluster is asked
      const lesson = await loadLesson(id);
      const spec = clusterSpecFor(lesson, flags);
      const access = await resolveClusterAccess(flags, spec, { signal, createHint: `kubelab up ${id}` });
      await apiServerVersion(connect(access), { signal });
      const foreign = Boolean(flags.kubeconfig || flags.context);
      const companions = foreign ? new Map() : await existingCompanions(lesson, spec, signal);
      const outcome = await verifyLesson(
        lesson,
        access,
        spec,
        {
          assertionTimeoutMs,
          signal,
          output: detectOutputMode(Boolean(flags.json)),
          trace: Boolean(flags.trace),
          ...(foreign ? {} : { provider: providerFor(spec.provider) }),
        },
        companions,
      );
      setExitCode(await reportOutcome(outcome, flags));
    });
}
