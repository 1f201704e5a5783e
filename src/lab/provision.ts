import { InputError } from '../errors.js';
import type { ClusterProvider, ProviderCallOptions } from '../cluster/provider.js';
import { assertPortsFree } from '../cluster/ports.js';
import { clusterMismatches, hostPortsOf, type ClusterSpec, type NodeRegistry } from '../cluster/spec.js';
import { KUBELAB_K3S_NODE_INPUTS } from '../forge/k3s.js';
import { REGISTRY_IMAGE } from '../forge/registry-image.js';
import { mirrorImages } from '../images/push.js';
import { removeKubeconfig } from '../cluster/kubeconfig-file.js';
import { deleteCluster } from '../cluster/teardown.js';
import { DEFAULT_PULL_POLICY, imageNeed, obtainImages, type PullPolicy } from '../images/image-source.js';
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
  options: ProviderCallOptions & { keep: boolean; pull?: PullPolicy; viaRegistry?: boolean },
): Promise<ProvisionResult> {
  const existing = await provider.describe(spec.name, options);
  let created = false;
  if (existing) {
    const problems = clusterMismatches(spec, existing);
    if (problems.length > 0) {
      throw new InputError(
        `cluster ${spec.name} exists but does not match the lesson: ${problems.join('; ')}`,
        `delete it (kubelab down --name ${spec.name} --provider ${provider.name}, or ${provider.deleteCommand(spec.name)}) or pick another name with --name`,
      );
    }
    if (options.viaRegistry) await assertPullsFromRegistry(provider, spec.name, options);
    options.onLine?.(`reusing cluster ${spec.name}`);
  } else {
    await assertPortsFree(hostPortsOf(spec), `cluster ${spec.name}`);
    const needs = (await provider.nodeImages(spec, options)).map((tag) => imageNeed(tag));
    const [node] = await obtainImages(needs, `${provider.name} cluster ${spec.name}`, { ...options, pull: options.pull ?? DEFAULT_PULL_POLICY });
    const registry = options.viaRegistry ? await startNodeRegistry(provider, options) : undefined;
    if (!options.keep) {
      cleanup.register(
        `delete ${provider.name} cluster ${spec.name}`,
        async () => {
          await deleteCluster(provider, spec.name);
          await removeKubeconfig(spec.name);
        },
        provider.deleteCommand(spec.name),
      );
    }
    created = true;
    // The node image may be an upstream one standing in for kubelab's (rancher/k3s for kubelab/k3s).
    await provider.create({ ...spec, image: node!.ref, ...(registry ? { registry } : {}) }, options);
  }
  const kubeconfig = await provider.writeKubeconfig(spec.name, options);
  return { access: { kubeconfig, context: provider.contextName(spec.name) }, created };
}

/**
 * The provider's machine registry, running; for providers whose nodes pull their add-ons through it
 * (k3d), holding the k3s add-on images (pause, CoreDNS, Traefik, ...) under their Docker Hub names.
 */
async function startNodeRegistry(provider: ClusterProvider, options: ProviderCallOptions & { pull?: PullPolicy }): Promise<NodeRegistry> {
  if (!provider.startRegistry) throw new Error(`${provider.name} has no node registry`); // refused with the flag (lesson-clusters.ts)
  const addonTags = provider.addonsViaRegistry ? KUBELAB_K3S_NODE_INPUTS.airgapImages : [];
  const [registryImage, ...addons] = await obtainImages([REGISTRY_IMAGE, ...addonTags].map((tag) => imageNeed(tag)), 'the node registry', {
    ...options,
    pull: options.pull ?? DEFAULT_PULL_POLICY,
  });
  const registry = await provider.startRegistry(registryImage!.ref, options);
  if (addons.length > 0) {
    await mirrorImages(addons.map((image) => ({ local: image.ref, name: image.need.tag })), registry.push, options);
    options.onLine?.(`add-on images in ${registry.push}: ${addonTags.join(', ')}`);
  }
  return registry;
}

/** A cluster reused for `--images-via registry` must have been made with it: its nodes would not find the pushed images. */
async function assertPullsFromRegistry(provider: ClusterProvider, name: string, options: ProviderCallOptions & { pull?: PullPolicy }): Promise<void> {
  const registry = await startNodeRegistry(provider, options);
  if (await provider.pullsFrom?.(name, registry, options)) return;
  throw new InputError(
    `cluster ${name} exists but its nodes do not pull from ${registry.pullAs} (it was made with --images-via import)`,
    `run with --images-via import, or delete it first (kubelab down --name ${name} --provider ${provider.name})`,
  );
}
