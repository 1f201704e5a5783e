import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { rm, writeFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { packageRoot } from '../util/paths.js';
import { makeTempDir } from '../util/temp.js';

// This package's public API in the flavour that is running: src/index.ts under the test runner,
// dist/src/index.js when compiled.
const here = fileURLToPath(import.meta.url);
const ownPublicApi = pathToFileURL(join(dirname(here), '..', 'index' + extname(here))).href;
const HANDOFF = 'kubelab.publicApi';

/**
 * Imports a lesson file of the user's: TypeScript through tsx, JavaScript as it is. A lesson imports
 * 'kubelab'. Where its folder finds another kubelab (installed in its project), that one is used;
 * where it finds none (`kubelab new lesson` into a bare folder) or this very package (linked, or
 * installed from this clone), the import is mapped to the API this process has already loaded.
 */
export async function importLessonFile(file: string): Promise<{ default?: unknown }> {
  const url = pathToFileURL(file).href;
  const theirs = kubelabSeenFrom(file);
  if (theirs === undefined || isInside(theirs, realpathSync(packageRoot()))) return importMappingKubelab(url);
  return /\.m?ts$/.test(file) ? tsImport(url, import.meta.url) : import(url);
}

/** The file 'kubelab' resolves to from the lesson's folder (real path), if it resolves. */
function kubelabSeenFrom(file: string): string | undefined {
  try {
    return realpathSync(createRequire(file).resolve('kubelab'));
  } catch {
    return undefined;
  }
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * tsx with a tsconfig whose `paths` map 'kubelab' to a module that re-exports the public API this
 * process has loaded. Importing the API's own file instead would load a second copy of kubelab and
 * its dependencies for a CommonJS lesson (tsx's require hook loads them anew; undici then fails
 * with "Illegal constructor").
 * tsx reads TSX_TSCONFIG_PATH, its documented variable, when tsImport registers its hooks: its
 * `tsconfig` option reaches only the ESM half, and a .ts file outside an ESM package loads through
 * the CommonJS half. The files are removed once the lesson has loaded.
 */
async function importMappingKubelab(url: string): Promise<{ default?: unknown }> {
  const api = (await import(ownPublicApi)) as Record<string, unknown>;
  (globalThis as Record<symbol, unknown>)[Symbol.for(HANDOFF)] = api;
  const dir = await makeTempDir('lesson-api');
  const previous = process.env.TSX_TSCONFIG_PATH;
  try {
    const reexport = join(dir, 'kubelab.mjs');
    await writeFile(reexport, `const api = globalThis[Symbol.for('${HANDOFF}')];\nexport const { ${Object.keys(api).join(', ')} } = api;\n`);
    const tsconfig = join(dir, 'tsconfig.json');
    await writeFile(tsconfig, JSON.stringify({ compilerOptions: { paths: { kubelab: [reexport] } } }));
    process.env.TSX_TSCONFIG_PATH = tsconfig;
    return await tsImport(url, import.meta.url);
  } finally {
    if (previous === undefined) delete process.env.TSX_TSCONFIG_PATH;
    else process.env.TSX_TSCONFIG_PATH = previous;
    await rm(dir, { recursive: true, force: true });
  }
}
