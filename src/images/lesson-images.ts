import { ensureNginxBase, pythonBaseTag } from './base.js';
import { buildImage } from './build.js';
import { imageNeed, obtainImages, type ImageNeed, type PullPolicy } from './image-source.js';
import { tagImage } from '../docker/engine.js';

/**
 * An image a lesson's manifests use: an app of apps/ built under `tag`, or (`app: 'nginx'`) the
 * course's nginx (`nginx:latest`), pulled or stood in for by kubelab's Debian nginx.
 */
export interface ImageRef {
  /** Folder under apps/, or `nginx` for the course's nginx. */
  app: string;
  /** The tag the manifests use, e.g. `myapp:latest`. */
  tag: string;
}

export interface ImageOptions {
  /** --base-image; when absent, kubelab's python base or the course's python:3.9-alpine, by `pull`. */
  baseImage?: string;
  rebuild: boolean;
  /** A lesson file's folder: its images' `app` folders are relative to it (else kubelab's apps/). */
  home?: string;
  /** Where the bases come from (image-source.ts). */
  pull: PullPolicy;
  /** How the images reach the nodes: imported into every node, or pulled from the machine's registry by the nodes that run them. */
  via: ImagesVia;
}

export const IMAGES_VIA = ['import', 'registry'] as const;
export type ImagesVia = (typeof IMAGES_VIA)[number];
/** Pulled by the nodes that run them: each node imports less, and k3d's nodes pull only the add-ons they run. */
export const DEFAULT_IMAGES_VIA: ImagesVia = 'registry';

type Progress = { signal?: AbortSignal; onLine?: (line: string) => void };

/** The course's nginx under the lesson's tag: pulled by that name, or kubelab's Debian nginx tagged so. */
function nginxNeed(tag: string): ImageNeed {
  return {
    tag,
    upstream: [tag],
    forge: async (options) => {
      const nginx = await ensureNginxBase(options);
      await tagImage(nginx.tag, tag);
      options.onLine?.(`${tag}: tagged from ${nginx.tag}`);
    },
  };
}

/** Builds the lesson's app images (skipping unchanged ones) and returns their tags, ready to import. */
export async function prepareLessonImages(
  images: ImageRef[],
  options: ImageOptions & Progress,
): Promise<string[]> {
  const nginx = images.filter((image) => image.app === 'nginx').map((image) => nginxNeed(image.tag));
  const apps = images.filter((image) => image.app !== 'nginx');
  const base = apps.length > 0 && !options.baseImage ? [imageNeed(pythonBaseTag())] : [];
  const obtained = nginx.length + base.length > 0 ? await obtainImages([...nginx, ...base], "the lesson's images", options) : [];
  const tags = obtained.slice(0, nginx.length).map((image) => image.ref);
  if (apps.length === 0) return tags;
  const baseImage = options.baseImage ?? obtained.at(-1)!.ref;
  for (const image of apps) {
    const result = await buildImage({ app: image.app, home: options.home, tag: image.tag, baseImage, force: options.rebuild, signal: options.signal, onLine: options.onLine });
    options.onLine?.(`${image.tag}: ${result.skipped ? 'unchanged, not rebuilt' : `built in ${(result.durationMs / 1000).toFixed(1)}s`} (${(result.sizeBytes / 1e6).toFixed(0)} MB)`);
    tags.push(image.tag);
  }
  return tags;
}
