import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exclusive } from '../util/exclusive.js';
import { toolsDir } from '../util/paths.js';
import { buildGoModule, goBuildSource, type GoBuild } from './go-build.js';
import type { ForgeOptions, ForgeResult, ForgeStatus } from './types.js';

/** A CLI kubelab keeps in its tools dir (k3d, kind), used when none is on PATH. */
export type GoTool = GoBuild;

export const goToolSource = goBuildSource;

/** The stamp written next to the binary: what it was built from. A different stamp means rebuild. */
export function goBuildIdentity(build: GoBuild): string {
  const flags = createHash('sha256')
    .update(JSON.stringify([build.pkg, build.ldflags, build.tags, build.cgo, ...(build.wrapper ? [build.wrapper] : [])]))
    .digest('hex')
    .slice(0, 12);
  return `${goBuildSource(build)} build:${flags}`;
}

function paths(build: GoBuild, dir: string): { binary: string; stamp: string } {
  return { binary: join(dir, build.name), stamp: join(dir, `${build.name}.source`) };
}

/** Whether `dir` holds the binary built from exactly `build` (its stamp names the same inputs). */
export async function goBinaryStatus(build: GoBuild, dir: string): Promise<ForgeStatus> {
  const { binary, stamp } = paths(build, dir);
  const recorded = await readFile(stamp, 'utf8').catch(() => '');
  if (!existsSync(binary) || recorded.trim() !== goBuildIdentity(build)) return { present: false, location: binary };
  return { present: true, location: binary, sizeBytes: (await stat(binary)).size };
}

/**
 * Builds `build` into `dir` unless the same inputs were built there before. It is built beside its
 * final place and renamed into it: an interrupted build leaves nothing half-written that looks current.
 */
export function ensureGoBinary(build: GoBuild, dir: string, options: ForgeOptions = {}): Promise<ForgeResult> {
  // One build per module at a time: a second binary of the same module then reuses the first's compiled packages.
  return exclusive(`go build ${goBuildSource(build)}`, () => buildUnlessCurrent(build, dir, options));
}

async function buildUnlessCurrent(build: GoBuild, dir: string, options: ForgeOptions): Promise<ForgeResult> {
  const started = performance.now();
  const current = await goBinaryStatus(build, dir);
  if (current.present && !options.force) return { ...current, skipped: true, durationMs: performance.now() - started };
  await mkdir(dir, { recursive: true });
  const { binary, stamp } = paths(build, dir);
  const built = join(dir, `.${build.name}.new`);
  try {
    await buildGoModule(build, built, dir, options);
    await rename(built, binary);
  } finally {
    await rm(built, { force: true });
  }
  await writeFile(stamp, `${goBuildIdentity(build)}\n`);
  return { ...(await goBinaryStatus(build, dir)), skipped: false, durationMs: performance.now() - started };
}

/** ensureGoBinary for part of a forged image: says what it builds, first, only when it will build. */
export async function ensureGoBinaryNoted(build: GoBuild, dir: string, options: ForgeOptions = {}): Promise<ForgeResult> {
  if (options.force || !(await goBinaryStatus(build, dir)).present) options.onLine?.(`building ${build.name} from ${goBuildSource(build)}`);
  return ensureGoBinary(build, dir, options);
}

export function goToolStatus(tool: GoTool): Promise<ForgeStatus> {
  return goBinaryStatus(tool, toolsDir());
}

/** A tool in kubelab's tools dir, where the providers look when it is not on PATH. */
export function ensureGoTool(tool: GoTool, options: ForgeOptions = {}): Promise<ForgeResult> {
  return ensureGoBinary(tool, toolsDir(), options);
}
