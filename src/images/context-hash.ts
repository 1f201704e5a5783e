import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** The image label that records which build context (and build args) an image was built from. */
export const CONTEXT_HASH_LABEL = 'dev.kubelab.context-hash';

/**
 * Junk that never belongs to a build context, ignored even without a .dockerignore (the apps ship
 * a .dockerignore with the same entries, so docker does not send them either). A `!pattern` line
 * in .dockerignore can bring one back.
 */
export const DEFAULT_CONTEXT_IGNORES: readonly string[] = ['**/__pycache__', '**/*.pyc', '**/.pytest_cache', '**/.DS_Store', '.git'];

/** Bumped when the hashing scheme changes, so that old labels stop matching. */
const SCHEME = 'kubelab-context-v1';

export interface ContextHashOptions {
  /** `--build-arg` values; they change the image, so they are part of the hash. */
  buildArgs?: Readonly<Record<string, string>>;
  /** Other inputs that change the image (e.g. the base image's id). */
  extra?: Readonly<Record<string, string>>;
  /** Replaces DEFAULT_CONTEXT_IGNORES (the context's .dockerignore still applies). */
  defaultIgnores?: readonly string[];
}

export type ContextEntry =
  | { kind: 'dir'; path: string; mode: number }
  | { kind: 'file'; path: string; mode: number; size: number; sha256: string }
  | { kind: 'symlink'; path: string; target: string };

/**
 * A deterministic sha256 (hex) over a build context: every path that docker would send (sorted,
 * '/'-separated, relative), its permission bits, and each file's content or link target; then the
 * build args and extra inputs, sorted by key. Timestamps and owners are not part of it, so an
 * unchanged checkout hashes the same on every run.
 */
export async function contextHash(dir: string, options: ContextHashOptions = {}): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`${SCHEME}\n`);
  for (const entry of await contextEntries(dir, options)) {
    const record =
      entry.kind === 'file'
        ? ['F', entry.path, entry.mode, entry.size, entry.sha256]
        : entry.kind === 'dir'
          ? ['D', entry.path, entry.mode]
          : ['L', entry.path, entry.target];
    hash.update(JSON.stringify(record) + '\n');
  }
  for (const [tag, values] of [
    ['A', options.buildArgs],
    ['X', options.extra],
  ] as const) {
    for (const key of Object.keys(values ?? {}).sort()) hash.update(JSON.stringify([tag, key, values![key]]) + '\n');
  }
  return hash.digest('hex');
}

/** The entries of a build context that contextHash() covers, sorted by path. */
export async function contextEntries(dir: string, options: Pick<ContextHashOptions, 'defaultIgnores'> = {}): Promise<ContextEntry[]> {
  const patterns = [...(options.defaultIgnores ?? DEFAULT_CONTEXT_IGNORES), ...(await readDockerignore(dir))];
  const ignored = createIgnoreMatcher(patterns);
  const canSkipIgnoredDirs = !patterns.some((p) => p.startsWith('!'));
  const entries: ContextEntry[] = [];

  const walk = async (absDir: string, relDir: string): Promise<void> => {
    for (const name of await readdir(absDir)) {
      const rel = relDir ? `${relDir}/${name}` : name;
      const abs = join(absDir, name);
      const stat = await lstat(abs);
      // Docker always sends these two, whatever .dockerignore says.
      const skip = ignored(rel) && rel !== 'Dockerfile' && rel !== '.dockerignore';
      if (stat.isDirectory()) {
        if (skip && canSkipIgnoredDirs) continue;
        if (!skip) entries.push({ kind: 'dir', path: rel, mode: stat.mode & 0o7777 });
        await walk(abs, rel);
      } else if (skip) {
        continue;
      } else if (stat.isFile()) {
        entries.push({ kind: 'file', path: rel, mode: stat.mode & 0o7777, size: stat.size, sha256: await fileSha256(abs) });
      } else if (stat.isSymbolicLink()) {
        entries.push({ kind: 'symlink', path: rel, target: await readlink(abs) });
      }
      // Sockets, FIFOs and devices are not part of a build context.
    }
  };
  await walk(dir, '');
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The patterns of `dir/.dockerignore` (comments and blank lines dropped), or [] without one. */
export async function readDockerignore(dir: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(join(dir, '.dockerignore'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * A matcher with .dockerignore semantics: patterns relative to the context root (a leading '/'
 * is dropped), `*` and `?` within one path segment, `**` across segments, `[...]` classes, `!` to
 * re-include; the last matching pattern wins, and a pattern that matches a directory matches
 * everything below it.
 */
export function createIgnoreMatcher(patterns: readonly string[]): (relPath: string) => boolean {
  const rules = patterns.map((raw) => {
    const negate = raw.startsWith('!');
    let pattern = (negate ? raw.slice(1) : raw).trim();
    pattern = pattern.replace(/\/+/g, '/').replace(/^\/+/, '').replace(/^(\.\/)+/, '').replace(/\/$/, '');
    return { negate, regex: globToRegExp(pattern) };
  });
  return (relPath: string) => {
    const parts = relPath.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) {
      if (candidates.some((candidate) => rule.regex.test(candidate))) excluded = !rule.negate;
    }
    return excluded;
  };
}

function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') {
          i++;
          out += '(?:.*/)?';
        } else {
          out += '.*';
        }
      } else {
        out += '[^/]*';
      }
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) {
        out += '\\[';
      } else {
        let body = pattern.slice(i + 1, end);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        out += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < pattern.length) {
      i++;
      out += escapeRegExp(pattern[i]!);
    } else {
      out += escapeRegExp(c);
    }
  }
  return new RegExp(`^${out}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function fileSha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
