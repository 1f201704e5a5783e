/**
 * The starter lesson runs green as written: `kubelab new lesson` into a bare temp folder (no
 * package.json, no node_modules), then `kubelab run` on the file it wrote, through the built CLI, on
 * a one-node k3d cluster of its own (its own name, and a host port free at the time, beside whatever
 * other lessons' clusters hold 8081). The run deletes the cluster; nothing of it is left.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../../src/util/paths.js';

const NAME = 'kubelab-new-lesson-test';
const cli = join(packageRoot(), 'bin', 'kubelab.js');
const MINUTE = 60_000;
let folder: string;

function kubelab(args: string[]) {
  return execa(process.execPath, [cli, ...args], { cwd: folder, reject: false, env: { CI: 'true' }, all: true });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function clusterContainers(): Promise<string[]> {
  const { stdout } = await execa('docker', ['ps', '-a', '--filter', `label=k3d.cluster=${NAME}`, '--format', '{{.Names}}']);
  return stdout.split('\n').filter(Boolean);
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'kubelab-it-new-lesson-run-'));
});
afterAll(async () => {
  // Only when the run itself failed to delete it.
  if ((await clusterContainers()).length > 0) await kubelab(['down', `./lessons/${NAME}.ts`]);
  await rm(folder, { recursive: true, force: true });
}, 5 * MINUTE);

describe('kubelab new lesson, then kubelab run on what it wrote', () => {
  test('every assertion of the starter passes, and the cluster is gone afterwards', async () => {
    const port = await freePort();
    const written = await kubelab(['new', 'lesson', NAME, '--dir', 'lessons', '--port', String(port)]);
    expect(written.exitCode).toBe(0);
    const started = performance.now();
    const run = await kubelab(['run', `./lessons/${NAME}.ts`]);
    console.log(`${run.all}\nkubelab run ./lessons/${NAME}.ts: exit ${run.exitCode} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^${NAME} on ${NAME}:$`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`PASS  GET http://127\\.0\\.0\\.1:${port}/ \\(Host: ${NAME}\\.local\\) answers 200 with "hello from ${NAME}"`));
    expect(run.stdout).toMatch(/^5 passed, 0 failed/m);
    expect(await clusterContainers()).toEqual([]);
  }, 30 * MINUTE);
});
