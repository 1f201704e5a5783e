/**
 * Property tests of the loaders users feed by hand: any manifest text either loads into named
 * objects or fails with an InputError that names the file and line, never another error; any
 * lesson id either loads a lesson or is an InputError.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { InputError } from '../../src/errors.js';
import { lessonIds, loadLesson } from '../../src/lab/catalog.js';
import { parseManifests } from '../../src/kube/manifests.js';

const FILE = 'lesson/app.yaml';

/** Loads, with every object named and placed, or an InputError at a line of FILE. */
function loadsOrNamesTheLine(text: string): boolean {
  try {
    for (const manifest of parseManifests(text, FILE)) {
      if (!manifest.apiVersion || !manifest.kind || !manifest.name || !/^lesson\/app\.yaml:\d+$/.test(manifest.source)) return false;
    }
    return true;
  } catch (error) {
    if (error instanceof InputError && /^lesson\/app\.yaml:\d+: /.test(error.message)) return true;
    throw error;
  }
}

/** YAML-shaped text: the tokens that make documents, mappings, sequences, anchors, tags and quoting. */
const yamlish = fc
  .array(
    fc.oneof(
      fc.constantFrom('---\n', '...\n', '\n', '  ', '\t', '- ', ': ', ', ', '[', ']', '{', '}', '"', "'", '&a ', '*a', '*b ', '!!str ', '!!map ', '? ', '|\n', '>\n', '#', '%YAML 1.2\n', '<<: *a\n'),
      fc.constantFrom('apiVersion', 'kind', 'metadata', 'name', 'namespace', 'v1', 'Pod', 'web', '0', 'null', '~', 'true', '1e9', '0x1F'),
      fc.string({ maxLength: 4 }),
    ),
    { maxLength: 60 },
  )
  .map((tokens) => tokens.join(''));

/** Well-formed YAML of arbitrary values, and of objects that look almost like manifests. */
const nearManifest = fc.record(
  {
    apiVersion: fc.oneof(fc.constant('v1'), fc.anything()),
    kind: fc.oneof(fc.constant('ConfigMap'), fc.anything()),
    metadata: fc.oneof(fc.record({ name: fc.oneof(fc.constant('web'), fc.anything()), namespace: fc.anything() }, { requiredKeys: [] }), fc.anything()),
  },
  { requiredKeys: [] },
);

describe('parseManifests on any input', () => {
  test('YAML-shaped text loads or fails naming the line', () => {
    fc.assert(fc.property(yamlish, loadsOrNamesTheLine), { numRuns: 3000 });
  });

  test('any unicode text loads or fails naming the line', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), loadsOrNamesTheLine), { numRuns: 2000 });
  });

  test('well-formed YAML of any value, and near-manifests, load or fail naming the line', () => {
    const documents = fc.array(fc.oneof(fc.anything(), nearManifest), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(documents, (values) => loadsOrNamesTheLine(values.map((v) => stringify(v, { aliasDuplicateObjects: false })).join('---\n'))),
      { numRuns: 500 },
    );
  });

  test('an alias bomb (billion laughs) is refused with the line, not expanded', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i += 1) levels.push(`${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(9).fill(`*${'abcdefghij'[i - 1]}`).join(',')}]`);
    expect(() => parseManifests(levels.join('\n') + '\n', FILE)).toThrow(InputError);
  });
});

describe('loadLesson on any id', () => {
  test('an id or file that is not a lesson is an InputError naming it', async () => {
    const known = await lessonIds();
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.constantFrom('../package', 'lesson-1/../lesson-2', 'lesson-1.ts', '/etc/passwd', 'LESSON-1', ' lesson-1')), async (id) => {
        fc.pre(!known.includes(id));
        const error = await loadLesson(id).then(() => undefined, (e: unknown) => e);
        // An id, or (with a slash or a .ts/.js ending) a lesson file: either way bad input naming it.
        return error instanceof InputError && (error.message === `unknown lesson "${id}"` || error.message.startsWith(`lesson file ${id} `));
      }),
      { numRuns: 300 },
    );
  });
});
