import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { delimiter, dirname, isAbsolute, join, normalize } from 'node:path';
import { execa, ExecaError } from 'execa';
import { EnvironmentError } from '../errors.js';
import { exclusive } from '../util/exclusive.js';
import { eachLine, run, runAllowingFailure } from '../util/exec.js';
import { toolOutput } from '../util/tool-log.js';
import { assertDockerAvailable, inspectImage, lastLines } from '../docker/engine.js';
import { makeTempDir } from '../util/temp.js';

/**
 * Local base images, built from Debian packages because nothing can be pulled: debootstrap a
 * minimal rootfs into a temp dir, then `tar | docker import`. The tag is a short hash of the recipe,
 * so a changed recipe is a new image and an unchanged one is built once and reused.
 */

/** Image label holding the full recipe hash. */
export const RECIPE_LABEL = 'dev.kubelab.recipe';
export const DEFAULT_DEBIAN_MIRROR = 'http://deb.debian.org/debian';
/** Bumped when the build procedure below (not a recipe) changes what an image contains. */
const PROCEDURE = 'kubelab-debootstrap-import-v2';

const PATH_ENV = 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A file put into the image after debootstrap. */
export interface RecipeFile {
  /** Absolute path in the image. */
  path: string;
  /** A file on this machine to copy, or literal text. */
  source: { file: string; identity: string } | { text: string };
  mode?: number;
}

export interface DebianImageRecipe {
  /** Image repository; the tag is `${repository}:${recipeHash.slice(0, 12)}`. */
  repository: string;
  suite: string;
  /** 'scratch': no Debian at all, only `files` (for images that hold one static binary). */
  variant: 'minbase' | 'buildd' | 'scratch';
  /** Packages passed to debootstrap --include (plus their dependencies). */
  packages: readonly string[];
  /**
   * Paths removed after debootstrap, before symlinks and files: a path ending in `/*` empties that
   * directory (e.g. the systemd units a distribution enables that a container node must not start).
   */
  remove?: readonly string[];
  /** Symlinks created in the rootfs after debootstrap: [absolute path in the image, target]. */
  symlinks?: ReadonlyArray<readonly [path: string, target: string]>;
  /** Text edits after debootstrap: [absolute path, exact text (must occur once), replacement]. */
  edits?: ReadonlyArray<readonly [path: string, search: string, replace: string]>;
  /**
   * Files added after debootstrap. A copied file enters the recipe hash by its `identity` (what it
   * was built from, e.g. module@version and flags), so that checking for a rebuild reads no file.
   */
  files?: readonly RecipeFile[];
  /** Dockerfile instructions for `docker import --change` (CMD, ENV, EXPOSE, WORKDIR, ...). */
  changes: readonly string[];
}

/** The course's own base for its Flask apps, which pythonBaseRecipe stands in for. */
export const COURSE_BASE_IMAGE = 'python:3.9-alpine';
/** The course's nginx, which nginxBaseRecipe stands in for. */
export const COURSE_NGINX_IMAGE = 'nginx:latest';

/**
 * Python for the course's Flask apps (stands in for python:3.9-alpine). bullseye, because its
 * python3 is 3.9 like the course's; it has python-is-python3, which provides /usr/bin/python, so
 * the course's `CMD python app.py` works. The course's HPA targets 60% of a 50Mi memory request: an
 * idle file-server pod must stay below 54% (the HPA's 10% tolerance) or memory alone scales it up
 * to maxReplicas and never back. glibc's python is heavier than alpine's: bookworm's 3.11 idles at
 * 36 MiB (72%), bullseye's 3.9 at 27 MiB (53%); with gunicorn's --preload (GUNICORN_CMD_ARGS, so
 * the course's CMD is unchanged) the worker shares the app's pages with the master: 26 MiB (52%)
 * as metrics-server reads the pods in lesson 2.
 */
export const pythonBaseRecipe: DebianImageRecipe = {
  repository: 'kubelab/python-flask',
  suite: 'bullseye',
  variant: 'minbase',
  packages: ['python3', 'python3-flask', 'gunicorn', 'python-is-python3'],
  changes: [PATH_ENV, 'ENV LANG=C.UTF-8', 'ENV PYTHONUNBUFFERED=1', 'ENV GUNICORN_CMD_ARGS=--preload', 'CMD ["python3"]'],
};

/**
 * nginx for lesson 3 (stands in for nginx:latest): Debian's default site on port 80, logs sent to
 * the container's stdout/stderr as the official image does.
 */
export const nginxBaseRecipe: DebianImageRecipe = {
  repository: 'kubelab/nginx',
  suite: 'bookworm',
  variant: 'minbase',
  packages: ['nginx-light'],
  symlinks: [
    ['/var/log/nginx/access.log', '/dev/stdout'],
    ['/var/log/nginx/error.log', '/dev/stderr'],
  ],
  // Log at notice level, as the official image does: nginx then prints "start worker process N"
  // once it listens, which is the line to wait for.
  edits: [['/etc/nginx/nginx.conf', '\nerror_log /var/log/nginx/error.log;\n', '\nerror_log /var/log/nginx/error.log notice;\n']],
  changes: [PATH_ENV, 'EXPOSE 80', 'CMD ["nginx", "-g", "daemon off;"]'],
};

export interface EnsureImageOptions {
  /** Rebuild even when an image with this recipe exists. */
  force?: boolean;
  signal?: AbortSignal;
  /** Progress lines (debootstrap's output). */
  onLine?: (line: string) => void;
  /** Overrides KUBELAB_DEBIAN_MIRROR and the mirror found in /etc/apt. */
  mirror?: string;
}

export interface BaseImageResult {
  tag: string;
  imageId: string;
  skipped: boolean;
  durationMs: number;
  sizeBytes: number;
  recipeHash: string;
}

export function ensurePythonBase(options: EnsureImageOptions = {}): Promise<BaseImageResult> {
  return ensureDebianImage(pythonBaseRecipe, options);
}

export function ensureNginxBase(options: EnsureImageOptions = {}): Promise<BaseImageResult> {
  return ensureDebianImage(nginxBaseRecipe, options);
}

export function recipeHash(recipe: DebianImageRecipe): string {
  const canonical = {
    procedure: PROCEDURE,
    repository: recipe.repository,
    suite: recipe.suite,
    variant: recipe.variant,
    packages: [...recipe.packages].sort(),
    ...(recipe.remove ? { remove: recipe.remove } : {}),
    symlinks: recipe.symlinks ?? [],
    edits: recipe.edits ?? [],
    files: (recipe.files ?? []).map((f) => ({
      path: f.path,
      mode: f.mode,
      source: 'file' in f.source ? f.source.identity : createHash('sha256').update(f.source.text).digest('hex'),
    })),
    changes: recipe.changes,
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

export function recipeTag(recipe: DebianImageRecipe): string {
  return `${recipe.repository}:${recipeHash(recipe).slice(0, 12)}`;
}

/** The python base's tag, without building it (what `--build-arg BASE_IMAGE=` gets). */
export function pythonBaseTag(): string {
  return recipeTag(pythonBaseRecipe);
}

/**
 * Builds the recipe's image unless a local image with its tag carries the same recipe hash.
 * The debootstrap dir is removed in all cases (success, failure, abort).
 */
export function ensureDebianImage(recipe: DebianImageRecipe, options: EnsureImageOptions = {}): Promise<BaseImageResult> {
  // Items built side by side share bases (the busybox donor): one builds it, the other finds it.
  return exclusive(`image ${recipeTag(recipe)}`, () => buildUnlessCurrent(recipe, options));
}

async function buildUnlessCurrent(recipe: DebianImageRecipe, options: EnsureImageOptions): Promise<BaseImageResult> {
  const started = performance.now();
  const hash = recipeHash(recipe);
  const tag = recipeTag(recipe);
  await assertDockerAvailable();

  const existing = await inspectImage(tag);
  if (existing && existing.labels[RECIPE_LABEL] === hash && !options.force) {
    return { tag, imageId: existing.id, skipped: true, durationMs: performance.now() - started, sizeBytes: existing.sizeBytes, recipeHash: hash };
  }

  const scratch = recipe.variant === 'scratch';
  const debootstrap = scratch ? undefined : checkRootfsPrerequisites(tag);
  const rootfs = await makeTempDir('rootfs');
  try {
    await chmod(rootfs, 0o755); // becomes the image's /
    if (debootstrap) await bootstrapRootfs(debootstrap, recipe, rootfs, options.mirror ?? debianMirror(recipe.suite), tag, options);
    await customizeRootfs(rootfs, recipe);
    const changes = [...recipe.changes, `LABEL ${RECIPE_LABEL}=${hash}`];
    const imageId = await importRootfs(rootfs, tag, changes, `kubelab ${recipe.repository} from ${recipe.suite} (${hash})`, options.signal);
    const info = await inspectImage(tag);
    if (!info) throw new Error(`docker import reported ${imageId} but ${tag} does not exist`);
    if (existing && existing.id !== info.id) {
      // The replaced image is now untagged; drop it unless other images are built on it.
      await runAllowingFailure('docker', ['image', 'rm', existing.id]);
    }
    return { tag, imageId: info.id, skipped: false, durationMs: performance.now() - started, sizeBytes: info.sizeBytes, recipeHash: hash };
  } finally {
    await removeRootfs(rootfs);
  }
}

/** Root and debootstrap are needed to build (not to reuse) a base; returns debootstrap's path. */
function checkRootfsPrerequisites(tag: string): string {
  if (process.platform !== 'linux') {
    throw new EnvironmentError(`building ${tag} needs Linux (debootstrap)`, 'run kubelab on a Linux machine or VM');
  }
  if (process.getuid?.() !== 0) {
    throw new EnvironmentError(
      `building ${tag} needs root: debootstrap creates device nodes, chowns files and chroots`,
      'run this once as root (e.g. `sudo kubelab doctor --fix`); later runs reuse the image',
    );
  }
  // debootstrap lives in /usr/sbin, which is not always on PATH.
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/sbin'];
  const found = dirs.map((dir) => join(dir, 'debootstrap')).find((path) => existsSync(path));
  if (!found) {
    throw new EnvironmentError(`building ${tag} needs debootstrap, which is not installed`, 'apt-get install debootstrap (or `kubelab doctor --fix`)');
  }
  return found;
}

async function bootstrapRootfs(
  debootstrap: string,
  recipe: DebianImageRecipe,
  rootfs: string,
  mirror: string,
  tag: string,
  options: EnsureImageOptions,
): Promise<void> {
  const args = [
    `--variant=${recipe.variant}`,
    `--include=${[...recipe.packages].sort().join(',')}`,
    '--components=main',
    recipe.suite,
    rootfs,
    mirror,
  ];
  const result = await runProcessGroup(debootstrap, args, { signal: options.signal, onLine: options.onLine, timeoutMs: 30 * 60_000 });
  if (result.aborted) throw Object.assign(new Error(`building ${tag} was cancelled`), { name: 'AbortError' });
  if (result.timedOut) throw new Error(`debootstrap ${recipe.suite} for ${tag} did not finish within 30 minutes (mirror ${mirror})`);
  if (result.exitCode === 0) return;
  // debootstrap's own log says more than its stderr.
  const log = await readFile(join(rootfs, 'debootstrap', 'debootstrap.log'), 'utf8').catch(() => '');
  const tail = lastLines([result.stdout, result.stderr, log].filter(Boolean).join('\n'), 15);
  const message = `debootstrap ${recipe.suite} from ${mirror} for ${tag} failed (exit ${result.exitCode}):\n${tail}`;
  if (/Failed getting release file|Could not resolve|Connection refused|Temporary failure|Network is unreachable|timed out/i.test(tail)) {
    throw new EnvironmentError(message, `check that ${mirror} is reachable, or set KUBELAB_DEBIAN_MIRROR to a Debian mirror that is`);
  }
  throw new Error(message);
}

interface GroupResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  aborted: boolean;
  timedOut: boolean;
}

/**
 * Runs debootstrap as the leader of its own process group, so that an abort or a timeout stops
 * the whole tree (dpkg and maintainer scripts running in the chroot), not only the shell script:
 * an orphaned dpkg would keep writing into the rootfs that is being deleted.
 */
async function runProcessGroup(
  file: string,
  args: readonly string[],
  options: { signal?: AbortSignal; onLine?: (line: string) => void; timeoutMs: number },
): Promise<GroupResult> {
  if (options.signal?.aborted) return { exitCode: 130, stdout: '', stderr: '', aborted: true, timedOut: false };
  const child = execa(file, [...args], {
    detached: true,
    reject: false,
    all: true,
    extendEnv: true,
    env: { DEBIAN_FRONTEND: 'noninteractive' },
    stdin: 'ignore',
  });
  let stopped: 'aborted' | 'timedOut' | undefined;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the group is already gone
    }
  };
  let escalation: NodeJS.Timeout | undefined;
  const stop = (why: 'aborted' | 'timedOut') => {
    stopped ??= why;
    killGroup('SIGTERM');
    escalation ??= setTimeout(() => killGroup('SIGKILL'), 5000);
  };
  const onAbort = () => stop('aborted');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const deadline = setTimeout(() => stop('timedOut'), options.timeoutMs);
  const output = options.onLine ? toolOutput(file, args, child.pid, options.onLine) : undefined;
  if (output && child.all) eachLine(child.all, (line) => output.line(line));
  try {
    const result = await child;
    output?.end(result);
    // The leader is gone; make sure nothing it started in the chroot outlives it.
    if (stopped) killGroup('SIGKILL');
    if (result.code === 'ENOENT') throw new EnvironmentError(`${file} is not installed`, 'apt-get install debootstrap');
    return {
      exitCode: result.exitCode ?? 128,
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
      aborted: stopped === 'aborted',
      timedOut: stopped === 'timedOut',
    };
  } finally {
    clearTimeout(deadline);
    clearTimeout(escalation);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Recipe symlinks and edits, and apt's caches dropped (they only make the image bigger). */
async function customizeRootfs(rootfs: string, recipe: DebianImageRecipe): Promise<void> {
  const root = await realpath(rootfs);
  for (const path of recipe.remove ?? []) {
    const emptyDir = path.endsWith('/*');
    const target = emptyDir ? path.slice(0, -2) : path;
    if (!existsSync(join(root, target))) continue;
    const full = await insideRootfs(root, target, true);
    const entries = emptyDir ? readdirSync(full).map((name) => join(full, name)) : [full];
    for (const entry of entries) await rm(entry, { recursive: true, force: true });
  }
  for (const [path, target] of recipe.symlinks ?? []) {
    // Neither the existing part of the parent nor the parent itself may lead out through a symlink.
    let existing = dirname(path);
    while (!existsSync(join(root, existing))) existing = dirname(existing);
    await insideRootfs(root, existing, true);
    const full = await insideRootfs(root, path);
    await mkdir(dirname(full), { recursive: true });
    await insideRootfs(root, dirname(path), true);
    await rm(full, { force: true });
    await symlink(target, full);
  }
  // debootstrap copies the build host's resolv.conf and hostname; the runtime supplies its own.
  for (const path of recipe.variant === 'scratch' ? [] : ['/etc/resolv.conf', '/etc/hostname']) {
    const full = await insideRootfs(root, path);
    await rm(full, { force: true }); // a symlink goes, not what it points to
    await writeFile(full, '');
  }
  for (const [path, search, replace] of recipe.edits ?? []) {
    const full = await insideRootfs(root, path, true);
    const text = await readFile(full, 'utf8');
    const count = text.split(search).length - 1;
    if (count !== 1) throw new Error(`recipe edit of ${path}: expected ${JSON.stringify(search)} once, found it ${count} times`);
    await writeFile(full, text.replace(search, () => replace));
  }
  for (const file of recipe.files ?? []) {
    let existing = dirname(file.path);
    while (!existsSync(join(root, existing))) existing = dirname(existing);
    await insideRootfs(root, existing, true);
    const full = await insideRootfs(root, file.path);
    await mkdir(dirname(full), { recursive: true });
    await rm(full, { force: true });
    if ('file' in file.source) await copyFile(file.source.file, full);
    else await writeFile(full, file.source.text);
    await chmod(full, file.mode ?? 0o644);
  }
  for (const dir of ['var/cache/apt/archives', 'var/lib/apt/lists', 'var/cache/apt']) {
    const abs = join(root, dir);
    if (!existsSync(abs)) continue;
    for (const name of readdirSync(abs, { withFileTypes: true })) {
      if (name.isFile()) await rm(join(abs, name.name), { force: true });
    }
  }
}

/** `path` (absolute in the image) mapped into the rootfs; refuses '..' and, if `resolve`, links leading outside. */
async function insideRootfs(root: string, path: string, resolve = false): Promise<string> {
  if (!isAbsolute(path) || normalize(path) !== path || path.split('/').includes('..')) {
    throw new Error(`recipe path must be absolute and normalized: ${path}`);
  }
  const full = join(root, path);
  if (resolve) {
    const real = await realpath(full);
    if (real !== root && !real.startsWith(root + '/')) throw new Error(`recipe path ${path} leads outside the rootfs (${real})`);
  }
  return full;
}

/** `tar -C rootfs -c . | docker import --change ... - tag`, as two processes joined by a pipe. */
async function importRootfs(rootfs: string, tag: string, changes: readonly string[], message: string, signal?: AbortSignal): Promise<string> {
  const tarArgs = [
    '--create',
    '--numeric-owner',
    '--one-file-system',
    // The runtime mounts its own /dev, /proc and /sys; keep the (empty) mount points only.
    '--exclude=./dev/*',
    '--exclude=./proc/*',
    '--exclude=./sys/*',
    '--directory',
    rootfs,
    '.',
  ];
  const importArgs = ['import', ...changes.flatMap((change) => ['--change', change]), '--message', message, '-', tag];
  try {
    const tar = execa('tar', tarArgs, {
      cancelSignal: signal,
      forceKillAfterDelay: 5000,
      // stdout (the archive) goes through the pipe only; stderr is kept for the error message.
      buffer: { stdout: false, stderr: true },
    });
    const imported = await tar.pipe('docker', importArgs, { cancelSignal: signal, forceKillAfterDelay: 5000 });
    const id = String(imported.stdout).trim().split('\n').pop() ?? '';
    if (!id.startsWith('sha256:')) throw new Error(`docker import printed no image id: ${imported.stdout}`);
    return id;
  } catch (error) {
    if (error instanceof ExecaError) {
      if (error.isCanceled) throw Object.assign(new Error(`importing ${tag} was cancelled`), { name: 'AbortError' });
      throw new Error(`tar | docker import ${tag} failed: ${error.shortMessage}\n${lastLines(String(error.stderr ?? ''), 8)}`);
    }
    throw error;
  }
}

/**
 * Removes a debootstrap dir. If debootstrap was killed it can leave /proc, /sys or /dev binds
 * mounted inside: unmount them first, and never delete across a mount (rm --one-file-system).
 */
export async function removeRootfs(rootfs: string): Promise<void> {
  if (!existsSync(rootfs)) return;
  const root = await realpath(rootfs);
  for (const mount of mountsUnder(root)) await runAllowingFailure('umount', ['--lazy', mount]);
  const left = mountsUnder(root);
  if (left.length > 0) throw new Error(`not deleting ${root}: still mounted inside: ${left.join(', ')}`);
  await run('rm', ['-rf', '--one-file-system', '--', root]);
}

/** Mount points below `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  return text
    .split('\n')
    .map((line) => unescape(line.split(' ')[4] ?? ''))
    .filter((point) => point.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

export interface AptSourceFile {
  name: string;
  text: string;
}

/**
 * The Debian mirror to debootstrap from: KUBELAB_DEBIAN_MIRROR, else the mirror this machine's apt
 * uses for `suite` (or any Debian mirror apt uses), else deb.debian.org.
 */
export function debianMirror(suite = 'bookworm'): string {
  const fromEnv = process.env.KUBELAB_DEBIAN_MIRROR?.trim();
  if (fromEnv) return fromEnv.replace(/\/+$/, '');
  return mirrorFromAptSources(readAptSources(), suite) ?? DEFAULT_DEBIAN_MIRROR;
}

/** /etc/apt/sources.list and sources.list.d/*.list|*.sources (the files apt itself reads). */
export function readAptSources(aptDir = '/etc/apt'): AptSourceFile[] {
  const files: AptSourceFile[] = [];
  const add = (path: string) => {
    try {
      files.push({ name: path, text: readFileSync(path, 'utf8') });
    } catch {
      // unreadable or vanished: skip it, as apt would complain but we need not
    }
  };
  add(join(aptDir, 'sources.list'));
  let names: string[] = [];
  try {
    names = readdirSync(join(aptDir, 'sources.list.d')).sort();
  } catch {
    names = [];
  }
  for (const name of names) if (/\.(list|sources)$/.test(name)) add(join(aptDir, 'sources.list.d', name));
  return files;
}

interface AptEntry {
  uris: string[];
  suites: string[];
  components: string[];
}

/** Picks a mirror from apt source files: one serving `suite`'s main first, then any `.../debian`. */
export function mirrorFromAptSources(files: readonly AptSourceFile[], suite: string): string | undefined {
  const entries = files.flatMap((file) => (file.name.endsWith('.sources') ? parseDeb822(file.text) : parseOneLine(file.text)));
  const usable = (uri: string) => /^(https?|file):\/\//.test(uri) && !/security/.test(uri);
  const clean = (uri: string) => uri.replace(/\/+$/, '');
  for (const entry of entries) {
    if (!entry.suites.includes(suite) || (entry.components.length > 0 && !entry.components.includes('main'))) continue;
    const uri = entry.uris.find(usable);
    if (uri) return clean(uri);
  }
  for (const entry of entries) {
    const uri = entry.uris.find((u) => usable(u) && /\/debian\/?$/.test(u));
    if (uri) return clean(uri);
  }
  return undefined;
}

function parseOneLine(text: string): AptEntry[] {
  const entries: AptEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const match = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(line);
    if (!match) continue;
    entries.push({ uris: [match[1]!], suites: [match[2]!], components: (match[3] ?? '').split(/\s+/).filter(Boolean) });
  }
  return entries;
}

function parseDeb822(text: string): AptEntry[] {
  const entries: AptEntry[] = [];
  const paragraphs = text
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('\n')
    .split(/\n\s*\n/);
  for (const paragraph of paragraphs) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of paragraph.split('\n')) {
      if (/^\s/.test(line) && last) {
        fields.set(last, `${fields.get(last)} ${line.trim()}`);
        continue;
      }
      const match = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (!match) continue;
      last = match[1]!.toLowerCase();
      fields.set(last, match[2]!.trim());
    }
    const list = (key: string) => (fields.get(key) ?? '').split(/\s+/).filter(Boolean);
    if (!list('types').includes('deb')) continue;
    if (/^(no|false)$/i.test(fields.get('enabled') ?? '')) continue;
    entries.push({ uris: list('uris'), suites: list('suites'), components: list('components') });
  }
  return entries;
}
