import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toolsDir } from '../util/paths.js';
import { buildGoModule, goBuildSource, type GoBuild } from './go-build.js';
import type { ForgeOptions, ForgeResult, ForgeStatus } from './types.js';

/** A CLI kubelab keeps in its tools dir (k3d, kind), used when none is on PATH. */
export type GoTool = GoBuild;

export const goToolSource = goBuildSource;

/** The stamp written next to the binary: what it was built from. A different stamp means rebuild. */
export function goBuildIdentity(build: GoBuild): string {
  const flags = createHash('sha256')
    .update(JSON.stringify([build.pkg, build.ldflags, build.tags, build.cgo]))
    .digest('hex')
    .slice(0, 12);
  return `${goBuildSource(build)} build:${flags}`;
}

function paths(tool: GoTool): { binary: string; stamp: string } {
  return { binary: join(toolsDir(), tool.name), stamp: join(toolsDir(), `${tool.name}.source`) };
}

export async function goToolStatus(tool: GoTool): Promise<ForgeStatus> {
  const { binary, stamp } = paths(tool);
  const recorded = await readFile(stamp, 'utf8').catch(() => '');
  if (!existsSync(binary) || recorded.trim() !== goBuildIdentity(tool)) return { present: false, location: binary };
  return { present: true, location: binary, sizeBytes: (await stat(binary)).size };
}

/**
 * Builds the tool into kubelab's tools dir unless the same source is already there. It is built in
 * a temp dir beside the tools dir and renamed into place: an interrupted build leaves nothing
 * half-written where kubelab looks for tools.
 */
export async function ensureGoTool(tool: GoTool, options: ForgeOptions = {}): Promise<ForgeResult> {
  const started = performance.now();
  const current = await goToolStatus(tool);
  if (current.present && !options.force) return { ...current, skipped: true, durationMs: performance.now() - started };
  const dir = toolsDir();
  await mkdir(dir, { recursive: true });
  const { binary, stamp } = paths(tool);
  const built = join(dir, `.${tool.name}.new`);
  try {
    await buildGoModule(tool, built, dir, options);
    await rename(built, binary);
  } finally {
    await rm(built, { force: true });
  }
  await writeFile(stamp, `${goBuildIdentity(tool)}\n`);
  return { ...(await goToolStatus(tool)), skipped: false, durationMs: performance.now() - started };
}
