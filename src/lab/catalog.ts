import { readdir } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InputError } from '../errors.js';
import type { Lesson } from './types.js';

// labs/ sits two levels above this file both in the source tree (src/lab) and in dist/ (dist/src/lab),
// and has the same extension as this module (.ts under the test runner, .js when compiled).
const here = fileURLToPath(import.meta.url);
const labsDir = join(dirname(here), '..', '..', 'labs');
const extension = extname(here);

export async function lessonIds(): Promise<string[]> {
  const files = await readdir(labsDir).catch(() => [] as string[]);
  return files
    .filter((f) => f.endsWith(extension) && !f.endsWith(`.d${extension}`))
    .map((f) => f.slice(0, -extension.length))
    .sort();
}

export async function loadLesson(id: string): Promise<Lesson> {
  const known = await lessonIds();
  if (!known.includes(id)) {
    throw new InputError(`unknown lesson "${id}"`, `known lessons: ${known.join(', ') || '(none)'}; see \`kubelab list --lessons\``);
  }
  const module = (await import(pathToFileURL(join(labsDir, id + extension)).href)) as { default?: Lesson };
  if (!module.default || module.default.id !== id) {
    throw new InputError(`labs/${id}${extension} must export default defineLesson({ id: '${id}', ... })`);
  }
  return module.default;
}
