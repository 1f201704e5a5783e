import { InputError } from '../errors.js';
import type { ClusterProvider, ProviderCallOptions } from '../cluster/provider.js';
import { assertPortsFree } from '../cluster/ports.js';
import { clusterMismatches, hostPortsOf, type ClusterSpec } from '../cluster/spec.js';
import { removeKubeconfig } from '../cluster/kubeconfig-file.js';
import { assertImagesPresent } from '../docker/engine.js';
import { forgeImages } from '../forge/catalog.js';
import type { ClusterAccess } from '../kube/client.js';
import type { CleanupStack } from '../util/cleanup.js';

export interface ProvisionResult {
  access: ClusterAccess;
  /** False when a matching cluster already existed and was reused (kubelab will not delete it). */
  created: boolean;
}

/**
 * Reuses a matching cluster, refuses a mismatching one, or creates it. A cluster kubelab creates is
 * registered for deletion the moment creation starts, so a failure or Ctrl-C mid-create removes it.
 */
export async function provisionCluster(
  provider: ClusterProvider,
  spec: ClusterSpec,
  cleanup: CleanupStack,
  options: ProviderCallOptions & { keep: boolean },
): Promise<ProvisionResult> {
  const existing = await provider.describe(spec.name, options);
  let created = false;
  if (existing) {
    const problems = clusterMismatches(spec, existing);
    if (problems.length > 0) {
      throw new InputError(
        `cluster ${spec.name} exists but does not match the lesson: ${problems.join('; ')}`,
        `delete it (kubelab down --name ${spec.name}, or ${provider.name} cluster delete ${spec.name}) or pick another name with --name`,
      );
    }
    options.onLine?.(`reusing cluster ${spec.name}`);
  } else {
    await assertPortsFree(hostPortsOf(spec), `cluster ${spec.name}`);
    const nodeImages = await provider.nodeImages(spec, options);
    await forgeImages(nodeImages, { signal: options.signal, onLine: options.onLine });
    await assertImagesPresent(nodeImages, `${provider.name} cluster ${spec.name}`);
    if (!options.keep) {
      cleanup.register(
        `delete ${provider.name} cluster ${spec.name}`,
        async () => {
          await provider.delete(spec.name);
          await removeKubeconfig(spec.name);
        },
        provider.deleteCommand(spec.name),
      );
    }
    created = true;
    await provider.create(spec, options);
  }
  const kubeconfig = await provider.writeKubeconfig(spec.name, options);
  return { access: { kubeconfig, context: provider.contextName(spec.name) }, created };
}
