import { EnvironmentError, InputError } from '../errors.js';
import { splitImage } from '../inspect/image-ref.js';
import { removeImage, tagImage } from '../docker/engine.js';
import { run } from '../util/exec.js';
import { canonicalImage } from '../kube/pin-images.js';
import { deadline } from '../util/deadline.js';

/**
 * The lesson's images into a registry the user names (`--registry`), for a cluster kubelab did not
 * make: pushed under `kubelab/` there (the user's own repositories are never written), and given to
 * the cluster by digest, so a node never runs an older image under the same tag.
 */

const DOCKER = 'docker';
/** host, host:port, [ipv6]:port, each with an optional path: localhost:5001, registry.example.com/team. */
const REGISTRY = /^(?:[a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:]+\])(?::\d{1,5})?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

/** Checks a --registry value: a registry host (with an optional port and path), no scheme, no tag. */
export function parseRegistry(value: string, flag = '--registry'): string {
  const registry = value.replace(/\/+$/, '');
  if (!REGISTRY.test(registry)) {
    throw new InputError(`${flag}: "${value}" is not a registry address`, 'give HOST[:PORT][/PATH] as docker push takes it, e.g. localhost:5001 (no http://, no image name)');
  }
  return registry;
}

/**
 * GET /v2/ (the registry API's base): any HTTP answer, 401 included, means a registry listens. HTTPS
 * first, as docker tries it; a plain-HTTP registry (docker's default for localhost) answers the second.
 */
export async function assertRegistryAnswers(registry: string, signal?: AbortSignal): Promise<void> {
  const host = registry.split('/')[0]!;
  const reasons: string[] = [];
  for (const scheme of ['https', 'http']) {
    const limit = deadline(10_000, signal);
    try {
      await fetch(`${scheme}://${host}/v2/`, { signal: limit.signal });
      return;
    } catch (error) {
      signal?.throwIfAborted();
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      reasons.push(`${scheme}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    } finally {
      limit.clear();
    }
  }
  throw new EnvironmentError(`--registry ${registry} does not answer (GET /v2/ by ${reasons.join(', ')})`, 'start the registry, or name the one your cluster pulls from');
}

/** Where a local image goes in the registry: `myapp:latest` -> `REGISTRY/kubelab/myapp:latest` (a registry host of the source is dropped). */
export function pushTarget(image: string, registry: string): string {
  const { repository, tag } = splitImage(image);
  const segments = repository.split('/');
  // The first segment names a registry when it has a dot or a port, or is localhost (docker's rule).
  if (segments.length > 1 && /[.:]|^localhost$/.test(segments[0]!)) segments.shift();
  return `${registry}/kubelab/${segments.join('/')}:${tag ?? 'latest'}`;
}

type PushOptions = { signal?: AbortSignal; onLine?: (line: string) => void };

/**
 * Pushes local image `image` as `target` (a tag docker push needs, removed again however the push
 * ends) and returns the pushed reference by digest, as this machine names the registry.
 */
async function pushAs(image: string, target: string, options: PushOptions): Promise<string> {
  await tagImage(image, target);
  try {
    await run(DOCKER, ['push', target], { signal: options.signal, onLine: options.onLine });
    const digests = JSON.parse((await run(DOCKER, ['image', 'inspect', '--format', '{{json .RepoDigests}}', target])).stdout) as string[];
    const repository = splitImage(target).repository;
    const byDigest = digests.find((ref) => ref.startsWith(`${repository}@`));
    if (!byDigest) throw new Error(`docker push ${target} succeeded but docker reports no digest for ${repository} (RepoDigests: ${digests.join(', ') || 'none'})`);
    return byDigest;
  } finally {
    await removeImage(target);
  }
}

/** Pushes each local image and returns, per image, the reference by digest the cluster should use. */
export async function pushImages(images: string[], registry: string, options: PushOptions & { pullAs?: string } = {}): Promise<Map<string, string>> {
  const pushed = new Map<string, string>();
  for (const image of images) {
    const byDigest = await pushAs(image, pushTarget(image, registry), options);
    // The nodes may name the registry otherwise than this machine does (k3d-kubelab-registry:PORT for 127.0.0.1:PORT).
    const ref = options.pullAs ? `${options.pullAs}${byDigest.slice(registry.length)}` : byDigest;
    pushed.set(image, ref);
    options.onLine?.(`${image}: pushed as ${ref}`);
  }
  return pushed;
}

/**
 * Pushes local images under Docker Hub names (`rancher/mirrored-pause:3.6`, `nginx` as
 * `library/nginx`), for a registry that mirrors docker.io to nodes. Layers the registry has are not
 * sent again.
 */
export async function mirrorImages(images: ReadonlyArray<{ local: string; name: string }>, registry: string, options: PushOptions = {}): Promise<void> {
  await Promise.all(images.map(({ local, name }) => pushAs(local, `${registry}/${canonicalImage(name)}`, options)));
}
