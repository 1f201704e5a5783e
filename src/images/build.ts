import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { packageRoot } from '../util/paths.js';
import { runAllowingFailure } from '../util/exec.js';
import { CONTEXT_HASH_LABEL, contextHash } from './context-hash.js';
import { assertDockerAvailable, inspectImage, lastLines } from '../docker/engine.js';

export interface BuildImageOptions {
  /** A directory under apps/ ('hello', 'file-server', ...), or under `home` when given. */
  app: string;
  /** A lesson file's folder, against which `app` resolves. */
  home?: string;
  /** e.g. 'myapp:latest' (lesson 1) or 'myapp:hpa-test' (lesson 2). */
  tag: string;
  /** Passed as --build-arg BASE_IMAGE (e.g. pythonBaseTag()). */
  baseImage: string;
  /** More --build-arg values; they are part of the context hash. */
  buildArgs?: Readonly<Record<string, string>>;
  /** Build even when the tag already carries the same context hash. */
  force?: boolean;
  signal?: AbortSignal;
  /** docker build's output, line by line. */
  onLine?: (line: string) => void;
}

export interface BuildImageResult {
  tag: string;
  imageId: string;
  /** True when the existing image already had this context hash, so nothing was built. */
  skipped: boolean;
  durationMs: number;
  sizeBytes: number;
  contextHash: string;
}

/** The app folders under apps/ that hold a Dockerfile. */
export function listApps(): string[] {
  const dir = join(packageRoot(), 'apps');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, 'Dockerfile')))
    .sort();
}

/**
 * apps/<app> as an absolute path (or `app` relative to a lesson file's folder `home`); InputError
 * for anything that is not a folder with a Dockerfile.
 */
export function appDir(app: string, home?: string): string {
  if (home) {
    const dir = resolve(home, app);
    if (!existsSync(join(dir, 'Dockerfile'))) throw new InputError(`app "${app}": there is no Dockerfile in ${dir} (apps of a lesson file are relative to its folder)`);
    return dir;
  }
  const known = listApps();
  const dir = join(packageRoot(), 'apps', app);
  const valid = /^[a-z0-9][a-z0-9._-]*$/i.test(app) && existsSync(dir) && statSync(dir).isDirectory() && existsSync(join(dir, 'Dockerfile'));
  if (!valid) {
    throw new InputError(
      `unknown app "${app}": there is no apps/${app}/Dockerfile in ${packageRoot()}`,
      known.length > 0 ? `use one of: ${known.join(', ')}` : 'the apps/ folder is missing from this kubelab install',
    );
  }
  return dir;
}

/**
 * Builds apps/<app> into `tag` with the legacy builder (`docker build`, argument array), unless
 * the image with that tag already carries the same context hash (files + build args + the base
 * image's id): then nothing runs and `skipped` is true.
 */
export async function buildImage(options: BuildImageOptions): Promise<BuildImageResult> {
  const started = performance.now();
  const dir = appDir(options.app, options.home);
  await assertDockerAvailable();

  const buildArgs = { ...options.buildArgs, BASE_IMAGE: options.baseImage };
  // A rebuilt base (same tag, new id) must rebuild the app too.
  const base = await inspectImage(options.baseImage);
  const hash = await contextHash(dir, { buildArgs, extra: { baseImageId: base?.id ?? 'absent' } });

  if (!options.force) {
    const existing = await inspectImage(options.tag);
    if (existing && existing.labels[CONTEXT_HASH_LABEL] === hash) {
      return { tag: options.tag, imageId: existing.id, skipped: true, durationMs: performance.now() - started, sizeBytes: existing.sizeBytes, contextHash: hash };
    }
  }

  const args = ['build', '--force-rm'];
  for (const [key, value] of Object.entries(buildArgs)) args.push('--build-arg', `${key}=${value}`);
  args.push('--label', `${CONTEXT_HASH_LABEL}=${hash}`, '--label', `dev.kubelab.app=${options.app}`, '--tag', options.tag, dir);

  const output: string[] = [];
  const result = await runAllowingFailure('docker', args, {
    signal: options.signal,
    timeoutMs: 30 * 60_000,
    // kubelab drives the legacy builder (Debian's docker.io 20.10 has no buildx); this also keeps
    // a newer client from asking for buildx.
    env: { DOCKER_BUILDKIT: '0' },
    onLine: options.onLine,
    // The failure's tail, in the order docker printed it.
    readLine: (line) => {
      output.push(line);
      if (output.length > 200) output.shift();
    },
  });
  if (result.exitCode !== 0) {
    const tail = lastLines(output.length > 0 ? output.join('\n') : [result.stdout, result.stderr].join('\n'), 20);
    const hint = base
      ? ''
      : `\n(the base image ${options.baseImage} is not present locally: docker pull it, or leave --base-image out for kubelab's base)`;
    throw new Error(`building apps/${options.app} (${dir}) as ${options.tag} failed (docker build exited with ${result.exitCode}):\n${tail}${hint}`);
  }

  const built = await inspectImage(options.tag);
  if (!built) throw new Error(`docker build of apps/${options.app} succeeded but ${options.tag} does not exist`);
  return { tag: options.tag, imageId: built.id, skipped: false, durationMs: performance.now() - started, sizeBytes: built.sizeBytes, contextHash: hash };
}
