/**
 * The GitHub Actions recipe (docs/ci/github-actions.yml) is a workflow GitHub would accept: actionlint,
 * built from its Go module the way kubelab builds its own tools, finds nothing in it, and does find
 * the mistakes of a broken copy (so a pass means something). The lessons and forge items it names
 * exist, and README points to it.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ensureGoBinary } from '../../src/forge/go-tool.js';
import type { GoBuild } from '../../src/forge/go-build.js';
import { selectItems } from '../../src/forge/forge.js';
import { lessonIds } from '../../src/lab/catalog.js';
import { packageRoot, toolsDir } from '../../src/util/paths.js';

const WORKFLOW = join(packageRoot(), 'docs', 'ci', 'github-actions.yml');
// The Go module proxy reachable here answers 403 for many versions; v1.7.12 is served with its dependencies.
const actionlint: GoBuild = { name: 'actionlint', module: 'github.com/rhysd/actionlint', version: 'v1.7.12', pkg: './cmd/actionlint' };
let binary: string;
let scratch: string;

function lint(file: string) {
  return execa(binary, ['-no-color', file], { reject: false });
}

beforeAll(async () => {
  // Kept in kubelab's tools dir beside k3d and kind: built once per machine (about a minute cold).
  binary = (await ensureGoBinary(actionlint, toolsDir())).location;
  scratch = await mkdtemp(join(tmpdir(), 'kubelab-it-ci-recipe-'));
}, 20 * 60_000);
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('docs/ci/github-actions.yml', () => {
  test('actionlint finds nothing in it', async () => {
    const result = await lint(WORKFLOW);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  });

  test('actionlint does find what a broken copy gets wrong (a context that does not exist, a step without uses or run)', async () => {
    const broken = join(scratch, 'broken.yml');
    const workflow = await readFile(WORKFLOW, 'utf8');
    await writeFile(broken, workflow.replace('${{ env.KUBELAB_REF }}', '${{ kubelab.ref }}').replace('      - uses: actions/setup-node@v4\n', '      - name: no action\n'));
    const result = await lint(broken);
    expect(result.stdout).toMatch(/undefined variable "kubelab"/);
    expect(result.stdout).toMatch(/step must run script with "run" section or run action with "uses" section/);
    expect(result.exitCode).toBe(1);
  });

  test('it runs the lessons as one suite with one JUnit file, and the course lessons it names exist', async () => {
    const workflow = await readFile(WORKFLOW, 'utf8');
    const runs = [...workflow.matchAll(/kubelab run ((?:\S+ )+)--junit reports\/(\S+)\.xml --report reports$/gm)];
    expect(runs).toHaveLength(1);
    const lessons = runs[0]![1]!.trim().split(' ');
    expect(lessons.length).toBeGreaterThan(1);
    const known = await lessonIds();
    for (const lesson of lessons.filter((l) => !l.includes('/'))) expect({ lesson, known: known.includes(lesson) }).toEqual({ lesson, known: true });
  });

  test('the items it forges are forge items', async () => {
    const workflow = await readFile(WORKFLOW, 'utf8');
    const forged = /kubelab forge ((?:"[^"]+"|\S+)(?: (?:"[^"]+"|\S+))*)$/m.exec(workflow)![1]!.match(/"[^"]+"|\S+/g)!.map((name) => name.replace(/"/g, ''));
    expect(forged).toEqual(['k3d', 'k3s node image', 'python base', 'nginx base']);
    expect(selectItems(forged).unknown).toEqual([]);
  });

  test("README's 'Use in CI' section points to it", async () => {
    const readme = await readFile(join(packageRoot(), 'README.md'), 'utf8');
    expect(readme).toMatch(/^## Use in CI\n[^#]*docs\/ci\/github-actions\.yml/m);
  });
});
