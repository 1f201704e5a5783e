import { providerFor } from '../cluster/registry.js';
import type { ProviderName } from '../cluster/spec.js';
import { InputError } from '../errors.js';
import type { ClusterAccess } from '../kube/client.js';
import { usableContext } from '../kube/kubeconfig-check.js';

export interface AccessFlags {
  kubeconfig?: string;
  context?: string;
}

/** A cluster kubelab made: its provider and name. */
export interface KubelabCluster {
  provider: ProviderName;
  name: string;
}

/** kubectl's default: the first file of $KUBECONFIG, else ~/.kube/config. */
function defaultKubeconfig(): string {
  return process.env.KUBECONFIG?.split(':')[0] || `${process.env.HOME}/.kube/config`;
}

/**
 * Which kubeconfig and context a read-only command (verify, inspect) talks to: any cluster named by
 * --kubeconfig/--context (checked to exist, bad input exits 2), else the kubelab cluster, whose
 * kubeconfig kubelab writes into its state dir. `createHint` is the command that makes that cluster.
 */
export async function resolveClusterAccess(
  flags: AccessFlags,
  cluster: KubelabCluster | undefined,
  options: { signal: AbortSignal; createHint: string },
): Promise<ClusterAccess> {
  if (flags.kubeconfig || flags.context) {
    const kubeconfig = flags.kubeconfig ?? defaultKubeconfig();
    return { kubeconfig, context: await usableContext(kubeconfig, flags.context) };
  }
  if (!cluster) throw new InputError('no cluster to talk to', 'name a lesson, a kubelab cluster (--name) or a kubeconfig (--kubeconfig/--context)');
  const provider = providerFor(cluster.provider);
  await provider.ensureAvailable();
  if (!(await provider.describe(cluster.name, { signal: options.signal }))) {
    throw new InputError(`no ${cluster.provider} cluster named ${cluster.name}`, `create it with \`${options.createHint}\`, or pass --kubeconfig/--context`);
  }
  return { kubeconfig: await provider.writeKubeconfig(cluster.name, { signal: options.signal }), context: provider.contextName(cluster.name) };
}
