/**
 * Jest globalSetup: tests that run the CLI as a child process run dist/ (bin/kubelab.js), which only
 * a build updates. Compile it whenever a source is newer than the last build, so that no test runs
 * code older than what it is meant to test. (Plain JS: jest loads it before any transform.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Everything the build reads: tsconfig.build.json compiles src, labs and bench. */
const SOURCES = ['src', 'labs', 'bench', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
/** Touched after each build, with the time the build started (a source saved during the build counts as newer). */
const STAMP = join(root, 'dist', '.built-at');
/** tsc's exit status for "diagnostics present, outputs generated". */
const TSC_ERRORS_EMITTED = 2;

function newestMtime(path) {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return readdirSync(path).reduce((newest, entry) => Math.max(newest, newestMtime(join(path, entry))), info.mtimeMs);
}

export default function freshDist() {
  const sources = Math.max(...SOURCES.map((source) => newestMtime(join(root, source))));
  if (existsSync(STAMP) && statSync(STAMP).mtimeMs >= sources) return;
  const started = new Date();
  process.stderr.write('\nsources are newer than dist/: tsc -p tsconfig.build.json\n');
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  // Type errors still emit (status 2): the type gate is `npm run typecheck`; here only a fresh dist/ counts.
  if (tsc.status !== 0 && tsc.status !== TSC_ERRORS_EMITTED) throw new Error(`tsc -p tsconfig.build.json failed (status ${tsc.status ?? tsc.signal}): dist/ is not current`);
  writeFileSync(STAMP, '');
  utimesSync(STAMP, started, started);
}
