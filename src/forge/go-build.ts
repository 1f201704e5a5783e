import { chmod, cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { runAllowingFailure } from '../util/exec.js';
import type { ForgeOptions } from './types.js';

/** A binary built from one Go module at an exact version, the module's own source as main module. */
export interface GoBuild {
  /** What the binary is called in messages. */
  name: string;
  module: string;
  version: string;
  /** The main package inside the module, relative (default: the module root). */
  pkg?: string;
  /** -X assignments that stamp versions into the binary, as the upstream release does. */
  ldflags?: string[];
  tags?: string[];
  /** CGO on (e.g. sqlite); off by default for static binaries. */
  cgo?: boolean;
  /** Extra environment, e.g. GONOSUMDB for a module the checksum database does not know. */
  env?: Record<string, string>;
  /** Adjusts the copied source before building (e.g. go mod edit, files a release script adds). */
  prepare?: (tree: string, run: GoRunner) => Promise<void>;
}

export type GoRunner = (args: string[], cwd: string) => Promise<void>;

export function goBuildSource(build: GoBuild): string {
  return `${build.module}@${build.version}`;
}

/**
 * Builds `build` into `output`. `go install module@version` is not used: it refuses modules with
 * replace directives and asks the proxy for version lists, which filtered proxies refuse. Instead
 * the module's source at the exact version is downloaded, copied somewhere writable and built as
 * the main module, so its go.mod, go.sum and replace directives apply as in the upstream release.
 */
export async function buildGoModule(build: GoBuild, output: string, workDir: string, options: ForgeOptions = {}): Promise<void> {
  const work = await mkdtemp(join(workDir, `.build-${build.name}-`));
  const go = (args: string[], cwd: string) => runGo(args, cwd, build, options);
  try {
    const download = await go(['mod', 'download', '-json', goBuildSource(build)], work);
    const source = (JSON.parse(download) as { Dir?: string }).Dir;
    if (!source) throw new EnvironmentError(`go mod download ${goBuildSource(build)} gave no source directory`);
    const tree = join(work, 'src');
    await cp(source, tree, { recursive: true });
    await makeWritable(tree);
    if (build.prepare) await build.prepare(tree, async (args, cwd) => void (await go(args, cwd)));
    const args = ['build', '-trimpath', '-buildvcs=false'];
    if (build.tags?.length) args.push('-tags', build.tags.join(' '));
    args.push(`-ldflags=-s -w${(build.ldflags ?? []).map((f) => ` -X ${f}`).join('')}`, '-o', output, build.pkg ?? '.');
    await go(args, tree);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
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

async function runGo(args: string[], cwd: string, build: GoBuild, options: ForgeOptions): Promise<string> {
  const result = await runAllowingFailure('go', args, {
    cwd,
    env: { CGO_ENABLED: build.cgo ? '1' : '0', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOWORK: 'off', ...build.env },
    signal: options.signal,
    onLine: options.onLine,
    timeoutMs: 90 * 60_000,
  }).catch((error: unknown) => {
    if (error instanceof EnvironmentError) {
      throw new EnvironmentError(`building ${build.name} needs Go, which is not installed`, 'install Go 1.22 or newer (https://go.dev/dl), then kubelab forge');
    }
    throw error;
  });
  if (result.exitCode !== 0) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-6).join('\n');
    throw new EnvironmentError(
      `go ${args[0]} for ${build.name} (${goBuildSource(build)}) failed:\n${tail}`,
      'check that the Go module proxy (go env GOPROXY) serves this version and its dependencies',
    );
  }
  return result.stdout;
}
