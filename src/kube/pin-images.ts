import { splitImage } from '../inspect/image-ref.js';
import type { Manifest } from './manifests.js';

/**
 * Manifests for a cluster that pulls the lesson's images from a registry: every container whose
 * image is one kubelab built (`myapp:latest`) gets the pushed image by digest instead
 * (`localhost:5001/kubelab/myapp@sha256:…`), and a pull policy of Never (right for images imported
 * into the nodes) becomes IfNotPresent, so the node pulls it once.
 */

/** `nginx`, `nginx:latest`, `docker.io/library/nginx:latest` are one image to a container runtime. */
export function canonicalImage(image: string): string {
  const { repository, tag, digest } = splitImage(image);
  const path = repository.replace(/^(docker\.io|index\.docker\.io)\//, '');
  const hub = path.includes('/') ? path : `library/${path}`;
  return `${hub}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
}

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'];
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A copy of `value` with each matching container rewritten: pod specs sit at different depths in Pods, Deployments, CronJobs and custom kinds. */
function pinned(value: unknown, refs: Map<string, string>, listName?: string): unknown {
  if (Array.isArray(value)) return value.map((item) => pinned(item, refs, listName));
  if (!isRecord(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) copy[key] = pinned(field, refs, CONTAINER_LISTS.includes(key) ? key : undefined);
  const pushed = listName && typeof copy.image === 'string' ? refs.get(canonicalImage(copy.image)) : undefined;
  if (pushed) {
    copy.image = pushed;
    if (copy.imagePullPolicy === 'Never') copy.imagePullPolicy = 'IfNotPresent';
  }
  return copy;
}

/** `manifests` with the built images replaced by their pushed references (`pushed`: built tag -> pushed ref). */
export function pinImages(manifests: Manifest[], pushed: ReadonlyMap<string, string>): Manifest[] {
  const refs = new Map([...pushed].map(([tag, ref]) => [canonicalImage(tag), ref]));
  return manifests.map((manifest) => ({ ...manifest, body: pinned(manifest.body, refs) as Manifest['body'] }));
}
