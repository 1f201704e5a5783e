export interface ImageParts {
  repository: string;
  /** `latest` when the reference names no tag and no digest (what the runtime then pulls). */
  tag?: string;
  digest?: string;
}

/**
 * Splits an image reference into repository, tag and digest: `rancher/mirrored-coredns-coredns:1.12.0`,
 * `localhost:5000/app` (the colon there is a registry port, not a tag) or `nginx@sha256:…`.
 */
export function splitImage(image: string): ImageParts {
  const at = image.indexOf('@');
  const digest = at === -1 ? undefined : image.slice(at + 1);
  const named = at === -1 ? image : image.slice(0, at);
  // A tag can only follow the last path segment; a colon before the last slash belongs to the registry.
  const colon = named.lastIndexOf(':');
  const hasTag = colon > named.lastIndexOf('/');
  const repository = hasTag ? named.slice(0, colon) : named;
  const tag = hasTag ? named.slice(colon + 1) : digest ? undefined : 'latest';
  return { repository, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}
