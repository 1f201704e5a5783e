/**
 * The interrupt soak: `kubelab run lesson-1` stopped by a signal to its whole process group (what a
 * terminal's Ctrl-C or a CI runner's SIGTERM does) at spread-out moments, teardown included. Every
 * run must exit 130 within 60 s of the signal and leave nothing: no container, volume or network of
 * the cluster, no kubeconfig or claim in its state dir, no temp dir (it gets its own TMPDIR).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { execa } from 'execa';
import { packageRoot } from '../../src/util/paths.js';

const cli = join(packageRoot(), 'bin', 'kubelab.js');
const CLUSTER = 'yadoc-exposed';
const MINUTE = 60_000;
let home: string;

/** Where to stop the run: a line of its output, or a process it starts (teardown). */
type Moment = { line: string } | { process: string };

const TEARDOWN = { process: `k3d cluster delete ${CLUSTER}` };
const CASES: Array<[string, Moment, NodeJS.Signals]> = [
  ['checking tools', { line: '❯ check k3d and docker' }, 'SIGINT'],
  ['building the app image', { line: '❯ build images' }, 'SIGTERM'],
  ['creating the nodes', { line: 'Creating node' }, 'SIGINT'],
  ['starting the agents', { line: 'Starting agents' }, 'SIGTERM'],
  ['importing images', { line: '❯ import images into' }, 'SIGINT'],
  ['applying', { line: '❯ apply 3 objects' }, 'SIGINT'],
  ['verifying', { line: '❯ verify 7 assertions' }, 'SIGTERM'],
  ['deleting the cluster (1)', TEARDOWN, 'SIGINT'],
  ['deleting the cluster (2)', TEARDOWN, 'SIGTERM'],
  ['deleting the cluster (3)', TEARDOWN, 'SIGINT'],
];

async function leftovers(runTmp: string): Promise<string[]> {
  const filter = ['--filter', `label=k3d.cluster=${CLUSTER}`];
  const docker = await Promise.all([
    execa('docker', ['ps', '-a', ...filter, '--format', 'container {{.Names}}']),
    execa('docker', ['volume', 'ls', ...filter, '--format', 'volume {{.Name}}']),
    execa('docker', ['network', 'ls', ...filter, '--format', 'network {{.Name}}']),
  ]);
  const files = async (dir: string, label: string) => (await readdir(dir).catch(() => [] as string[])).map((f) => `${label} ${f}`);
  return [
    ...docker.flatMap((r) => r.stdout.split('\n').filter(Boolean)),
    ...(await files(join(home, 'kubeconfigs'), 'kubeconfig')),
    ...(await files(join(home, 'runs'), 'claim')),
    ...(await files(runTmp, 'temp')),
  ];
}

/** Resolves when `moment` comes; the run's output is watched as it arrives, processes every 50 ms. */
async function reached(child: ReturnType<typeof execa>, moment: Moment): Promise<boolean> {
  if ('line' in moment) {
    return new Promise((resolve) => {
      let seen = '';
      child.all!.on('data', (chunk: Buffer) => {
        seen = (seen + chunk.toString()).slice(-4000);
        if (seen.includes(moment.line)) resolve(true);
      });
      void child.finally(() => resolve(false));
    });
  }
  while (child.exitCode === null) {
    if ((await execa('pgrep', ['-f', moment.process], { reject: false })).exitCode === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'kubelab-soak-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe(`interrupt soak: ${CASES.length} signals to kubelab run lesson-1's process group`, () => {
  test.each(CASES)('while %s: %s... ', async (_moment, moment, signal) => {
    const runTmp = join(home, `tmp-${signal}-${Date.now()}`);
    await mkdir(runTmp);
    const child = execa(process.execPath, [cli, 'run', 'lesson-1'], {
      reject: false,
      all: true,
      detached: true, // its own process group, as a terminal's foreground job
      env: { CI: 'true', KUBELAB_HOME: home, TMPDIR: runTmp },
    });
    expect(await reached(child, moment)).toBe(true);
    process.kill(-child.pid!, signal);
    const deadline = new AbortController();
    const exited = await Promise.race([child, delay(MINUTE, undefined, { signal: deadline.signal }).catch(() => undefined)]);
    deadline.abort(); // else the timer holds jest open for a minute after the last case
    if (!exited) {
      process.kill(-child.pid!, 'SIGKILL');
      await child;
      throw new Error(`kubelab did not exit within 60 s of ${signal}:\n${child.all ?? ''}`);
    }
    if (exited.exitCode !== 130) console.log(exited.all);
    expect(exited.exitCode).toBe(130);
    expect(String(exited.stderr)).toContain('interrupted; cleanup done');
    expect(await leftovers(runTmp)).toEqual([]);
  }, 8 * MINUTE);
});
