import { chmod, cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
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
  /**
   * Build inside a generated main module instead of the module's own tree, for modules whose go.mod
   * replaces with local paths (Kubernetes' staging, etcd's siblings): `pkg` is then a full import
   * path, the wrapper requires `module@version`, and these directives fill in what the paths did.
   */
  wrapper?: GoWrapper;
}

export interface GoWrapper {
  /** Further requirements, `module@version`. */
  require?: readonly string[];
  /** `module => module version` (or `=> ./stub/NAME` for a name in `stubs`). */
  replace?: Readonly<Record<string, string>>;
  exclude?: readonly string[];
  /** Modules required by the graph but not served: each becomes an empty local module. */
  stubs?: readonly string[];
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
    if (build.wrapper) {
      await writeWrapperModule(build, build.wrapper, work);
      await go(['build', ...buildFlags(build), '-o', output, build.pkg ?? build.module], work);
      return;
    }
    const download = await go(['mod', 'download', '-json', goBuildSource(build)], work);
    const source = (JSON.parse(download) as { Dir?: string }).Dir;
    if (!source) throw new EnvironmentError(`go mod download ${goBuildSource(build)} gave no source directory`);
    const tree = join(work, 'src');
    await cp(source, tree, { recursive: true });
    await makeWritable(tree);
    if (build.prepare) await build.prepare(tree, async (args, cwd) => void (await go(args, cwd)));
    await go(['build', ...buildFlags(build), '-o', output, build.pkg ?? '.'], tree);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function buildFlags(build: GoBuild): string[] {
  const flags = ['-trimpath', '-buildvcs=false'];
  if (build.tags?.length) flags.push('-tags', build.tags.join(' '));
  flags.push(`-ldflags=-s -w${(build.ldflags ?? []).map((f) => ` -X ${f}`).join('')}`);
  return flags;
}

/** go.mod of the generated main module (its go.sum is filled by -mod=mod against the checksum database). */
export function wrapperGoMod(build: GoBuild, wrapper: GoWrapper): string {
  const lines = ['module kubelab.local/forge', '', 'go 1.23.0', '', 'require ('];
  for (const required of [`${build.module}@${build.version}`, ...(wrapper.require ?? [])]) lines.push(`\t${required.replace('@', ' ')}`);
  lines.push(')');
  const replaces = Object.entries(wrapper.replace ?? {});
  const stubs = wrapper.stubs ?? [];
  if (replaces.length + stubs.length > 0) {
    lines.push('', 'replace (');
    for (const [from, to] of replaces) lines.push(`\t${from} => ${to}`);
    for (const stub of stubs) lines.push(`\t${stub} => ./stub/${stubDir(stub)}`);
    lines.push(')');
  }
  for (const excluded of wrapper.exclude ?? []) lines.push('', `exclude ${excluded.replace('@', ' ')}`);
  return lines.join('\n') + '\n';
}

const stubDir = (module: string) => module.replace(/[^A-Za-z0-9.-]/g, '_');

async function writeWrapperModule(build: GoBuild, wrapper: GoWrapper, dir: string): Promise<void> {
  await writeFile(join(dir, 'go.mod'), wrapperGoMod(build, wrapper));
  for (const stub of wrapper.stubs ?? []) {
    await mkdir(join(dir, 'stub', stubDir(stub)), { recursive: true });
    await writeFile(join(dir, 'stub', stubDir(stub), 'go.mod'), `module ${stub}\n\ngo 1.23\n`);
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
