import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { runAllowingFailure } from '../util/exec.js';
import { toolsDir } from '../util/paths.js';
import type { ForgeOptions, ForgeResult, ForgeStatus } from './types.js';

/** A CLI built from the Go module proxy with `go install module/pkg@version`. */
export interface GoTool {
  name: string;
  /** The Go module, e.g. github.com/k3d-io/k3d/v5 */
  module: string;
  /** The main package inside the module, relative (default: the module root). */
  pkg?: string;
  version: string;
  /** -X assignments that stamp the version into the binary, as the upstream release does. */
  ldflags?: string[];
}

export function goToolSource(tool: GoTool): string {
  return `${tool.module}@${tool.version}`;
}

/** The stamp written next to the binary: what it was built from. A different stamp means rebuild. */
function stampOf(tool: GoTool): string {
  const flags = createHash('sha256').update(JSON.stringify(tool.ldflags ?? [])).digest('hex').slice(0, 12);
  return `${goToolSource(tool)} ldflags:${flags}`;
}

function paths(tool: GoTool): { binary: string; stamp: string } {
  return { binary: join(toolsDir(), tool.name), stamp: join(toolsDir(), `${tool.name}.source`) };
}

export async function goToolStatus(tool: GoTool): Promise<ForgeStatus> {
  const { binary, stamp } = paths(tool);
  const recorded = await readFile(stamp, 'utf8').catch(() => '');
  if (!existsSync(binary) || recorded.trim() !== stampOf(tool)) return { present: false, location: binary };
  return { present: true, location: binary, sizeBytes: (await stat(binary)).size };
}

/**
 * Builds the tool into kubelab's tools dir unless the same source is already there.
 * The module's own source (fetched at its exact version) is the main module of the build, so its
 * go.mod, go.sum and replace directives apply as in the upstream release; `go install pkg@version`
 * would also ask the proxy for the version list, which filtered proxies refuse. The binary is
 * built in a temp dir beside the tools dir and renamed into place: an interrupted build leaves
 * nothing half-written where kubelab looks for tools.
 */
export async function ensureGoTool(tool: GoTool, options: ForgeOptions = {}): Promise<ForgeResult> {
  const started = performance.now();
  const current = await goToolStatus(tool);
  if (current.present && !options.force) return { ...current, skipped: true, durationMs: performance.now() - started };

  const dir = toolsDir();
  await mkdir(dir, { recursive: true });
  const work = await mkdtemp(join(dir, `.build-${tool.name}-`));
  try {
    const download = await go(['mod', 'download', '-json', goToolSource(tool)], tool, { ...options, cwd: work });
    const source = (JSON.parse(download.stdout) as { Dir?: string }).Dir;
    if (!source) throw new EnvironmentError(`go mod download ${goToolSource(tool)} gave no source directory`);
    const tree = join(work, 'src');
    await cp(source, tree, { recursive: true });
    await makeWritable(tree);
    const args = ['build', '-trimpath', `-ldflags=-s -w${(tool.ldflags ?? []).map((f) => ` -X ${f}`).join('')}`, '-o', join(work, tool.name), tool.pkg ?? '.'];
    await go(args, tool, { ...options, cwd: tree });
    const { binary, stamp } = paths(tool);
    await rename(join(work, tool.name), binary);
    await writeFile(stamp, `${stampOf(tool)}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { ...(await goToolStatus(tool)), skipped: false, durationMs: performance.now() - started };
}

/** The module cache is read-only; the copied tree must be writable for go to add go.sum lines and for rm. */
async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await makeWritable(path);
    else if (entry.isFile()) await chmod(path, 0o644);
  }
}

async function go(args: string[], tool: GoTool, options: ForgeOptions & { cwd: string }) {
  const result = await runAllowingFailure('go', args, {
    cwd: options.cwd,
    env: { CGO_ENABLED: '0', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOWORK: 'off' },
    signal: options.signal,
    onLine: options.onLine,
    timeoutMs: 60 * 60_000,
  }).catch((error: unknown) => {
    if (error instanceof EnvironmentError) {
      throw new EnvironmentError(`building ${tool.name} needs Go, which is not installed`, 'install Go 1.22 or newer (https://go.dev/dl), then kubelab forge');
    }
    throw error;
  });
  if (result.exitCode !== 0) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-6).join('\n');
    throw new EnvironmentError(`go ${args[0]} for ${tool.name} (${goToolSource(tool)}) failed:\n${tail}`, 'check that the Go module proxy (go env GOPROXY) serves this version and its dependencies');
  }
  return result;
}
