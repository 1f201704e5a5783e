/**
 * The course's own cluster from forged images, end to end: `kubelab run lesson-1 --keep` on a real
 * k3d cluster (1 server, 3 agents, 8081:80@loadbalancer), then what the forge must give it
 * (metrics answer), then `kubelab down` leaving no container, volume or network behind.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../../src/util/paths.js';

const CLUSTER = 'yadoc-exposed';
const cli = join(packageRoot(), 'bin', 'kubelab.js');
const MINUTE = 60_000;
let dir: string;

function kubelab(args: string[]) {
  return execa(process.execPath, [cli, ...args], { reject: false, env: { CI: 'true' }, all: true });
}

async function leftovers(): Promise<string[]> {
  const filter = ['--filter', `label=k3d.cluster=${CLUSTER}`];
  const [containers, volumes, networks] = await Promise.all([
    execa('docker', ['ps', '-a', ...filter, '--format', 'container {{.Names}}']),
    execa('docker', ['volume', 'ls', ...filter, '--format', 'volume {{.Name}}']),
    execa('docker', ['network', 'ls', ...filter, '--format', 'network {{.Name}}']),
  ]);
  return [containers, volumes, networks].flatMap((r) => r.stdout.split('\n').filter(Boolean));
}

afterAll(async () => {
  await kubelab(['down', 'lesson-1']);
  if (dir) await rm(dir, { recursive: true, force: true });
}, 5 * MINUTE);

describe('lesson 1 on a real k3d cluster from forged images', () => {
  test('run: every assertion passes', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubelab-it-lesson1-'));
    const junit = join(dir, 'lesson-1.xml');
    const result = await kubelab(['run', 'lesson-1', '--keep', '--junit', junit]);
    console.log(result.all);
    expect(result.exitCode).toBe(0);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(/<testsuite name="lesson-1" tests="7" failures="0"/);
    expect(result.stdout).toMatch(/PASS {2}GET http:\/\/127\.0\.0\.1:8081\/ \(Host: myapp\.local\) answers 200/);
  }, 30 * MINUTE);

  test('the forged add-ons serve metrics: kubectl top nodes answers for 4 nodes', async () => {
    const kubeconfig = (await kubelab(['kubeconfig', 'lesson-1'])).stdout.trim();
    expect(existsSync(kubeconfig)).toBe(true);
    // metrics-server needs one scrape (15 s resolution) before it answers; kubectl top is the check.
    const deadline = Date.now() + 3 * MINUTE;
    let top = await execa('kubectl', ['--kubeconfig', kubeconfig, 'top', 'nodes', '--no-headers'], { reject: false });
    while (top.exitCode !== 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5000));
      top = await execa('kubectl', ['--kubeconfig', kubeconfig, 'top', 'nodes', '--no-headers'], { reject: false });
    }
    console.log(top.stdout || top.stderr);
    expect(top.exitCode).toBe(0);
    expect(top.stdout.trim().split('\n')).toHaveLength(4);
  }, 5 * MINUTE);

  test('down removes every container, volume and network of the cluster, and its kubeconfig', async () => {
    const kubeconfig = (await kubelab(['kubeconfig', 'lesson-1'])).stdout.trim();
    const result = await kubelab(['down', 'lesson-1']);
    expect(result.exitCode).toBe(0);
    expect(await leftovers()).toEqual([]);
    expect(existsSync(kubeconfig)).toBe(false);
  }, 5 * MINUTE);
});
