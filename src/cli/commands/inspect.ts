import { Option, type Command } from 'commander';
import { servesJoinToken } from '../../cluster/provider.js';
import { PROVIDERS, providerFor } from '../../cluster/registry.js';
import { validateClusterName, type ProviderName } from '../../cluster/spec.js';
import { inspectCluster } from '../../inspect/collect.js';
import { formatControlPlaneReport } from '../../inspect/format.js';
import { connect } from '../../kube/client.js';
import { loadLesson } from '../../lab/catalog.js';
import { resolveClusterAccess, type KubelabCluster } from '../access.js';
import type { CommandContext } from '../command-context.js';
import { clusterSpecFor } from '../../lab/lesson-clusters.js';

interface InspectFlags {
  kubeconfig?: string;
  context?: string;
  name?: string;
  provider?: ProviderName;
  json?: boolean;
}

/** The lesson's kubelab cluster, or the one --name names (k3d unless --provider says otherwise). */
async function kubelabCluster(lessonId: string | undefined, flags: InspectFlags): Promise<KubelabCluster | undefined> {
  if (lessonId) return clusterSpecFor(await loadLesson(lessonId), flags);
  if (flags.name) return { provider: flags.provider ?? 'k3d', name: validateClusterName(flags.name, '--name') };
  return undefined;
}

export function inspectCommand(program: Command, { signal }: CommandContext): void {
  program.command('inspect')
    .description('report the control plane of a live cluster: nodes, what runs inside k3s and what as pods, /livez and /readyz, the datastore, the ingress controller, CoreDNS, the kube-proxy mode; each fact with how it was learned')
    .argument('[lesson]', "lesson id: inspect that lesson's kubelab cluster")
    .option('--kubeconfig <file>', 'kubeconfig of any cluster to inspect instead')
    .option('--context <name>', 'context in that kubeconfig')
    .option('--name <cluster>', "kubelab cluster name (default: the lesson's)")
    .addOption(new Option('--provider <name>', 'provider of the kubelab cluster').choices([...PROVIDERS]))
    .option('--json', 'print the report as JSON')
    .action(async (lessonId: string | undefined, flags: InspectFlags) => {
      const cluster = await kubelabCluster(lessonId, flags);
      const access = await resolveClusterAccess(flags, cluster, { signal, createHint: `kubelab up ${lessonId ?? '<lesson>'}` });
      // A cluster kubelab made: its join token lets k3s's /db/info list the etcd members.
      const byKubelab = cluster && !flags.kubeconfig && !flags.context ? cluster : undefined;
      const provider = byKubelab && providerFor(byKubelab.provider);
      const serverToken = byKubelab && provider && servesJoinToken(provider) ? await provider.serverToken(byKubelab.name, { signal }) : undefined;
      const report = await inspectCluster(connect(access), { signal, ...(serverToken ? { serverToken } : {}) });
      process.stdout.write((flags.json ? JSON.stringify(report, null, 2) : formatControlPlaneReport(report)) + '\n');
    });
}
