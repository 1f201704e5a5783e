/**
 * The interrupt soak: `kubelab run lesson-1` stopped by a signal to its whole process group (what a
 * terminal's Ctrl-C or a CI runner's SIGTERM does) at spread-out moments, teardown included. Every
 * run must exit 130 within 60 s of the signal and leave nothing: no container, volume or network of
 * the cluster, no registry container it started, no kubeconfig, claim or lock in its state dir, no
 * temp dir (it gets its own TMPDIR).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { execa } from 'execa';
import { MACHINE_REGISTRY_CONTAINER } from '../../src/cluster/machine-registry.js';
import { packageRoot } from '../../src/util/paths.js';
import { clusterLeftovers, registryContainerExists } from '../support/leftovers.js';

const cli = join(packageRoot(), 'bin', 'kubelab.js');
const CLUSTER = 'yadoc-exposed';
const MINUTE = 60_000;
let home: string;

/**
 * Where to stop the run: a line of kubelab's own output, a process it starts (teardown), or a node
 * container existing or running (k3d's own lines go to the tool log, not to plain output).
 */
type Moment = { line: string } | { process: string } | { container: string; running: boolean };

const TEARDOWN = { process: `k3d cluster delete ${CLUSTER}` };
const CASES: Array<[string, Moment, NodeJS.Signals]> = [
  ['checking tools', { line: '❯ check k3d and docker' }, 'SIGINT'],
  ['building the app image', { line: '❯ build images' }, 'SIGTERM'],
  ['creating the nodes', { container: `k3d-${CLUSTER}-server-0`, running: false }, 'SIGINT'],
  ['starting the agents', { container: `k3d-${CLUSTER}-agent-0`, running: true }, 'SIGTERM'],
  ['pushing images', { line: "❯ push images to the nodes' registry" }, 'SIGINT'],
  ['applying', { line: '❯ apply 3 objects' }, 'SIGINT'],
  ['verifying', { line: '❯ verify 7 assertions' }, 'SIGTERM'],
  ['deleting the cluster (1)', TEARDOWN, 'SIGINT'],
  ['deleting the cluster (2)', TEARDOWN, 'SIGTERM'],
  ['deleting the cluster (3)', TEARDOWN, 'SIGINT'],
];

async function leftovers(runTmp: string, registryBefore: boolean): Promise<string[]> {
  const files = async (dir: string, label: string) => (await readdir(dir).catch(() => [] as string[])).map((f) => `${label} ${f}`);
  return [
    ...(await clusterLeftovers(CLUSTER)),
    ...(!registryBefore && (await registryContainerExists()) ? [`container ${MACHINE_REGISTRY_CONTAINER}`] : []),
    ...(await files(join(home, 'kubeconfigs'), 'kubeconfig')),
    ...(await files(join(home, 'runs'), 'claim')),
    ...(await files(join(home, 'locks'), 'lock')),
    ...(await files(runTmp, 'temp')),
  ];
}

/** Resolves when `moment` comes; the run's output is watched as it arrives, processes and containers every 50 ms. */
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
  const there = async () => {
    if ('process' in moment) return (await execa('pgrep', ['-f', moment.process], { reject: false })).exitCode === 0;
    const filters = ['--filter', `name=^${moment.container}$`, ...(moment.running ? ['--filter', 'status=running'] : [])];
    return (await execa('docker', ['ps', '-a', '--quiet', ...filters])).stdout.trim() !== '';
  };
  while (child.exitCode === null) {
    if (await there()) return true;
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
    const registryBefore = await registryContainerExists();
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
    expect(await leftovers(runTmp, registryBefore)).toEqual([]);
  }, 8 * MINUTE);
});
