import { ensureNginxBase, ensurePythonBase } from './base.js';
import { buildImage } from './build.js';
import { imageExists, tagImage } from '../docker/engine.js';

/**
 * An image a lesson's manifests use: an app of apps/ built under `tag`, or (`app: 'nginx'`) the
 * stand-in for the course's `nginx:latest`, which nothing here can pull.
 */
export interface ImageRef {
  /** Folder under apps/, or `nginx` for kubelab's Debian nginx image. */
  app: string;
  /** The tag the manifests use, e.g. `myapp:latest`. */
  tag: string;
}

export interface ImageOptions {
  /** --base-image; when absent, the course's base if present locally, else kubelab's Debian base. */
  baseImage?: string;
  rebuild: boolean;
  /** A lesson file's folder: its images' `app` folders are relative to it (else kubelab's apps/). */
  home?: string;
}

/** The course's own base: used when someone has it locally (a machine that can pull). */
export const COURSE_BASE_IMAGE = 'python:3.9-alpine';

async function resolveBaseImage(options: ImageOptions & { signal?: AbortSignal; onLine?: (line: string) => void }): Promise<string> {
  if (options.baseImage) return options.baseImage;
  if (await imageExists(COURSE_BASE_IMAGE)) return COURSE_BASE_IMAGE;
  options.onLine?.(`${COURSE_BASE_IMAGE} is not available locally: using kubelab's Debian base (built once, about a minute)`);
  const base = await ensurePythonBase({ signal: options.signal, onLine: options.onLine });
  return base.tag;
}

/** Builds the lesson's app images (skipping unchanged ones) and returns their tags, ready to import. */
export async function prepareLessonImages(
  images: ImageRef[],
  options: ImageOptions & { signal?: AbortSignal; onLine?: (line: string) => void },
): Promise<string[]> {
  const tags: string[] = [];
  const apps = images.filter((image) => image.app !== 'nginx');
  for (const image of images.filter((i) => i.app === 'nginx')) {
    if (!(await imageExists(image.tag)) || options.rebuild) {
      const nginx = await ensureNginxBase({ signal: options.signal, onLine: options.onLine });
      await tagImage(nginx.tag, image.tag);
      options.onLine?.(`${image.tag}: tagged from ${nginx.tag}`);
    }
    tags.push(image.tag);
  }
  if (apps.length === 0) return tags;
  const baseImage = await resolveBaseImage(options);
  for (const image of apps) {
    const result = await buildImage({ app: image.app, home: options.home, tag: image.tag, baseImage, force: options.rebuild, signal: options.signal, onLine: options.onLine });
    options.onLine?.(`${image.tag}: ${result.skipped ? 'unchanged, not rebuilt' : `built in ${(result.durationMs / 1000).toFixed(1)}s`} (${(result.sizeBytes / 1e6).toFixed(0)} MB)`);
    tags.push(image.tag);
  }
  return tags;
}
