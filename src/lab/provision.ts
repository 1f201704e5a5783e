import { InputError } from '../errors.js';
import type { ClusterProvider, ProviderCallOptions } from '../cluster/provider.js';
import { assertPortsFree } from '../cluster/ports.js';
import { clusterMismatches, hostPortsOf, type ClusterSpec, type NodeRegistry } from '../cluster/spec.js';
import { KUBELAB_K3S_NODE_INPUTS } from '../forge/k3s.js';
import { REGISTRY_IMAGE } from '../forge/registry-image.js';
import { mirrorImages } from '../images/push.js';
import { removeKubeconfig, saveKubeconfig } from '../cluster/kubeconfig-file.js';
import { deleteCluster } from '../cluster/teardown.js';
import { DEFAULT_PULL_POLICY, imageNeed, obtainImages, type ObtainedImage, type PullPolicy } from '../images/image-source.js';
import type { ClusterAccess } from '../kube/client.js';
import type { CleanupStack } from '../util/cleanup.js';
import { MACHINE_REGISTRY_CONTAINER, retireMachineRegistry } from '../cluster/machine-registry.js';
import { otherRunIsLive } from './cluster-claim.js';

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
  // The node images are asked for beside the lookup (a CLI call each): only a create uses them.
  const [existing, nodeTags] = await Promise.all([provider.describe(spec.name, options), provider.nodeImages(spec, options)]);
  let created = false;
  let createdKubeconfig: string | undefined;
  if (existing) {
    const problems = clusterMismatches(spec, existing);
    if (problems.length > 0) {
      throw new InputError(
        `cluster ${spec.name} exists but does not match the lesson: ${problems.join('; ')}`,
        `delete it (kubelab down --name ${spec.name} --provider ${provider.name}, or ${provider.deleteCommand(spec.name)}) or pick another name with --name`,
      );
    }
    if (options.viaRegistry) await assertPullsFromRegistry(provider, spec.name, cleanup, options);
    options.onLine?.(`reusing cluster ${spec.name}`);
  } else {
    await assertPortsFree(hostPortsOf(spec), `cluster ${spec.name}`);
    const registryTags = options.viaRegistry ? registryImageTags(provider) : [];
    // One call, so that every image's store and recipe checks run side by side.
    const obtained = await obtainImages([...nodeTags, ...registryTags].map((tag) => imageNeed(tag)), `${provider.name} cluster ${spec.name}`, {
      ...options,
      pull: options.pull ?? DEFAULT_PULL_POLICY,
    });
    const node = obtained[0];
    const registryImages = options.viaRegistry ? asRegistryImages(obtained.slice(nodeTags.length)) : undefined;
    // Registered before the cluster's delete, the registry's retirement runs after it.
    if (registryImages) registerRegistryRetirement(cleanup);
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
    // The registry starts beside the create; a registry that fails stops the create, whose error would only echo it.
    const registryFailed = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, registryFailed.signal]) : registryFailed.signal;
    const registry = registryImages
      ? startNodeRegistry(provider, registryImages, { ...options, signal }).catch((error: unknown) => {
          registryFailed.abort(error);
          throw error;
        })
      : undefined;
    // The node image may be an upstream one standing in for kubelab's (rancher/k3s for kubelab/k3s).
    const creating = provider.create({ ...spec, image: node!.ref }, { ...options, signal, ...(registry ? { registry } : {}) });
    const [createdCluster, startedRegistry] = await Promise.allSettled([creating, registry]);
    if (startedRegistry.status === 'rejected') throw startedRegistry.reason;
    if (createdCluster.status === 'rejected') throw createdCluster.reason;
    if (createdCluster.value) createdKubeconfig = createdCluster.value;
  }
  const kubeconfig = createdKubeconfig ? await saveKubeconfig(spec.name, createdKubeconfig) : await provider.writeKubeconfig(spec.name, options);
  return { access: { kubeconfig, context: provider.contextName(spec.name) }, created };
}

interface RegistryImages {
  registry: string;
  /** The add-on images the nodes pull through it (k3d), under their Docker Hub names. */
  addons: Array<{ local: string; name: string }>;
}

/** The registry's image and, for providers whose nodes pull their add-ons through it, theirs. */
function registryImageTags(provider: ClusterProvider): string[] {
  if (!provider.startRegistry) throw new Error(`${provider.name} has no node registry`); // refused with the flag (lesson-clusters.ts)
  return [REGISTRY_IMAGE, ...(provider.addonsViaRegistry ? KUBELAB_K3S_NODE_INPUTS.airgapImages : [])];
}

function asRegistryImages([registry, ...addons]: ObtainedImage[]): RegistryImages {
  return { registry: registry!.ref, addons: addons.map((image) => ({ local: image.ref, name: image.need.tag })) };
}

/** registryImageTags, local, pulled or forged. */
async function obtainRegistryImages(provider: ClusterProvider, options: ProviderCallOptions & { pull?: PullPolicy }): Promise<RegistryImages> {
  const obtained = await obtainImages(registryImageTags(provider).map((tag) => imageNeed(tag)), 'the node registry', {
    ...options,
    pull: options.pull ?? DEFAULT_PULL_POLICY,
  });
  return asRegistryImages(obtained);
}

/** The container goes with the last cluster and run that need it, its images stay for the next. */
function registerRegistryRetirement(cleanup: CleanupStack): void {
  cleanup.register(
    `stop ${MACHINE_REGISTRY_CONTAINER} unless a cluster or another run needs it`,
    async () => void (await retireMachineRegistry(otherRunIsLive)),
    `docker rm --force ${MACHINE_REGISTRY_CONTAINER}`,
  );
}

/** The provider's machine registry, running, holding the add-on images its nodes pull through it. */
async function startNodeRegistry(provider: ClusterProvider, images: RegistryImages, options: ProviderCallOptions): Promise<NodeRegistry> {
  const registry = await provider.startRegistry!(images.registry, options);
  if (images.addons.length > 0) {
    await mirrorImages(images.addons, registry.push, options);
    options.onLine?.(`add-on images in ${registry.push}: ${images.addons.map((image) => image.name).join(', ')}`);
  }
  return registry;
}

/** A cluster reused for `--images-via registry` must have been made with it: its nodes would not find the pushed images. */
async function assertPullsFromRegistry(provider: ClusterProvider, name: string, cleanup: CleanupStack, options: ProviderCallOptions & { pull?: PullPolicy }): Promise<void> {
  const images = await obtainRegistryImages(provider, options);
  registerRegistryRetirement(cleanup);
  const registry = await startNodeRegistry(provider, images, options);
  if (await provider.pullsFrom?.(name, registry, options)) return;
  throw new InputError(
    `cluster ${name} exists but its nodes do not pull from ${registry.pullAs} (it was made with --images-via import)`,
    `run with --images-via import, or delete it first (kubelab down --name ${name} --provider ${provider.name})`,
  );
}
