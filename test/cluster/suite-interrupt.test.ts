/**
 * Ctrl-C in the middle of a suite: `kubelab run lesson-1 lesson-2` gets SIGINT (to its whole
 * process group, as a terminal sends it) once lesson 2 has started on the cluster lesson 1 left up.
 * The suite owns that cluster, not lesson 2: it must still be deleted. Exit 130, and no container,
 * volume or network of the cluster, no claim or kubeconfig of it in the state dir; its --junit still
 * reports lesson 1 as passed and lesson 2 as stopped. The run uses the
 * machine's own state dir: its claim on the cluster keeps another run from sharing it meanwhile.
 */
import { describe, expect, test } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { packageRoot, stateDir } from '../../src/util/paths.js';
import { clusterLeftovers } from '../support/leftovers.js';

const CLUSTER = 'yadoc-exposed';
const cli = join(packageRoot(), 'bin', 'kubelab.js');
const MINUTE = 60_000;
const LESSON_2_STARTED = 'reuse k3d cluster yadoc-exposed from the lesson before';

describe('SIGINT while lesson 2 of a suite runs on the cluster lesson 1 left up', () => {
  test('exits 130 and the suite deletes the cluster', async () => {
    const junit = join(await mkdtemp(join(tmpdir(), 'kubelab-it-suite-interrupt-')), 'suite.xml');
    const child = execa(process.execPath, [cli, 'run', 'lesson-1', 'lesson-2', '--junit', junit], {
      reject: false,
      all: true,
      detached: true, // its own process group, as a terminal's foreground job
      env: { CI: 'true' },
    });
    let output = '';
    const reached = await new Promise<boolean>((resolve) => {
      child.all!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(LESSON_2_STARTED)) resolve(true);
      });
      void child.finally(() => resolve(false));
    });
    expect(reached).toBe(true);
    // Made by this suite, not a cluster it found and left alone.
    expect(output).not.toContain(`reusing cluster ${CLUSTER}`);
    process.kill(-child.pid!, 'SIGINT');
    const result = await child;
    if (result.exitCode !== 130) console.log(result.all);
    expect(result.exitCode).toBe(130);
    expect(String(result.stderr)).toContain('interrupted; cleanup done');
    expect(await clusterLeftovers(CLUSTER)).toEqual([]);
    const state = async (dir: string) => (await readdir(join(stateDir(), dir)).catch(() => [] as string[])).filter((f) => f.startsWith(CLUSTER)).map((f) => `${dir}/${f}`);
    expect([...(await state('runs')), ...(await state('kubeconfigs'))]).toEqual([]);
    // What finished is still reported: lesson 1 passed, lesson 2 stopped by the interruption.
    const xml = await readFile(junit, 'utf8');
    await rm(dirname(junit), { recursive: true, force: true });
    expect([...xml.matchAll(/<testsuite name="([^"]+)" tests="(\d+)" failures="(\d+)"/g)].map((m) => m.slice(1))).toEqual([
      ['lesson-1', '7', '0'],
      ['lesson-2', '1', '1'],
    ]);
    expect(xml).toMatch(/<failure message="expected the lesson runs to its end; observed stopped: interrupted by SIGINT"/);
  }, 15 * MINUTE);
});
