/**
 * A suite through the CLI: `kubelab run lesson-1 lesson-2 --junit F` on one k3d cluster. Exit 0, one
 * JUnit file with a testsuite per lesson, the cluster created once and reused by lesson 2 (after
 * lesson 1's objects were deleted), and afterwards no container, volume or network of it left.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type Result } from 'execa';
import { packageRoot } from '../../src/util/paths.js';
import { clusterLeftovers } from '../support/leftovers.js';

const CLUSTER = 'yadoc-exposed';
const cli = join(packageRoot(), 'bin', 'kubelab.js');
const MINUTE = 60_000;
let dir: string;
const OPTIONS = { reject: false, all: true, env: { CI: 'true' } } as const;
let run: Result<typeof OPTIONS>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubelab-suite-'));
  run = await execa(process.execPath, [cli, 'run', 'lesson-1', 'lesson-2', '--junit', join(dir, 'suite.xml')], OPTIONS);
  console.log(run.all);
}, 30 * MINUTE);

// No `kubelab down` here: the suite's own cleanup is under test, and down would delete another run's cluster of the same name.
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('kubelab run lesson-1 lesson-2: a suite on one cluster', () => {
  test('exits 0', () => {
    expect(run.exitCode).toBe(0);
  });

  test('writes one JUnit file with a testsuite per lesson', async () => {
    const xml = await readFile(join(dir, 'suite.xml'), 'utf8');
    expect([...xml.matchAll(/<testsuite name="([^"]+)" tests="(\d+)" failures="(\d+)"/g)].map((m) => [m[1], Number(m[2]) > 0, m[3]])).toEqual([
      ['lesson-1', true, '0'],
      ['lesson-2', true, '0'],
    ]);
  });

  test('creates the cluster once: lesson 2 reuses it, and it is deleted once, after lesson 2', () => {
    expect(run.all.match(/✔ provision k3d cluster yadoc-exposed/g)).toHaveLength(1);
    expect(run.all.match(/✔ reuse k3d cluster yadoc-exposed from the lesson before/g)).toHaveLength(1);
    expect(run.all).toContain("suite: cluster yadoc-exposed stays up for lesson-2, without lesson-1's objects");
    expect(run.all.match(/suite: deleted cluster yadoc-exposed/g)).toHaveLength(1);
    expect(run.all.indexOf('suite: deleted cluster yadoc-exposed')).toBeGreaterThan(run.all.indexOf('lesson-2'));
  });

  test('prints each lesson\'s summary and a final count line', () => {
    expect(run.stdout).toContain('lesson-1 on yadoc-exposed:');
    expect(run.stdout).toContain('lesson-2 on yadoc-exposed:');
    expect(run.stdout).toMatch(/^2 lessons: 2 passed, 0 failed; \d+ assertions passed, 0 failed/m);
  });

  test('leaves no container, volume or network of the cluster', async () => {
    expect(await clusterLeftovers(CLUSTER)).toEqual([]);
  });
});
