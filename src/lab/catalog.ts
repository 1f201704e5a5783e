import { readdir, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InputError } from '../errors.js';
import { importLessonFile } from './lesson-import.js';
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

/** A lesson named by its file (a path, or a name ending in .ts, .mts, .js or .mjs) rather than by id. */
export function isLessonFile(ref: string): boolean {
  return /[\\/]/.test(ref) || /\.(m?ts|m?js)$/.test(ref);
}

/**
 * A built-in lesson by id (labs/<id>), or a lesson file of the user's, anywhere (importLessonFile:
 * TypeScript without a build step, 'kubelab' found even where nothing is installed). A lesson file's
 * `manifests` and its images' `app` folders are relative to the file's folder.
 */
export async function loadLesson(ref: string): Promise<Lesson> {
  if (isLessonFile(ref)) return loadLessonFile(ref);
  const known = await lessonIds();
  if (!known.includes(ref)) {
    throw new InputError(`unknown lesson "${ref}"`, `known lessons: ${known.join(', ') || '(none)'}, or a lesson file such as ./my-lesson.ts`);
  }
  const module = (await import(pathToFileURL(join(labsDir, ref + extension)).href)) as { default?: Lesson };
  if (!module.default || module.default.id !== ref) {
    throw new InputError(`labs/${ref}${extension} must export default defineLesson({ id: '${ref}', ... })`);
  }
  return module.default;
}

const LESSON_FIELDS = { id: 'string', title: 'string', manifests: 'string', namespace: 'string', cluster: 'object', images: 'array', exercise: 'array', assertions: 'array' } as const;

/** The fields a default export lacks to be a lesson (empty when it is one). */
function missingLessonFields(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return Object.keys(LESSON_FIELDS);
  const record = value as Record<string, unknown>;
  return Object.entries(LESSON_FIELDS)
    .filter(([field, kind]) => (kind === 'array' ? !Array.isArray(record[field]) : typeof record[field] !== kind || record[field] === null))
    .map(([field]) => field);
}

async function loadLessonFile(ref: string): Promise<Lesson> {
  const file = resolve(ref);
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new InputError(`lesson file ${ref} does not exist`, 'name a built-in lesson (kubelab list) or the path of a lesson file');
  let module: { default?: unknown };
  try {
    module = await importLessonFile(file);
  } catch (error) {
    throw new InputError(`lesson file ${ref} cannot be loaded: ${(error as Error).message.split('\n')[0]}`);
  }
  // A .ts file outside an ESM package loads as CommonJS: its default export is one level down.
  const inner = (module.default as { default?: unknown } | undefined)?.default;
  const lesson = missingLessonFields(module.default).length > 0 && inner !== undefined ? inner : module.default;
  const missing = missingLessonFields(lesson);
  if (missing.length > 0) {
    throw new InputError(`lesson file ${ref} must export default defineLesson({ ... }): missing or wrong ${missing.join(', ')}`);
  }
  return { ...(lesson as Lesson), home: dirname(file) };
}
