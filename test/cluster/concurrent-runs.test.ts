/**
 * Two runs of one lesson at once: the second is refused at once (exit 3, naming the first run's pid
 * and the cluster) and touches nothing; the first is then interrupted and cleans up as usual. A run
 * killed with SIGKILL cannot clean up: `kubelab gc` then finds and deletes what it left, the
 * registry container it started included.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { MACHINE_REGISTRY_CONTAINER } from '../../src/cluster/machine-registry.js';
import { claimHolder } from '../../src/lab/cluster-claim.js';
import { packageRoot } from '../../src/util/paths.js';
import { registryContainerExists } from '../support/leftovers.js';

const cli = join(packageRoot(), 'bin', 'kubelab.js');
const CLUSTER = 'yadoc-exposed';
let home: string;

function kubelab(args: string[], options: { detached?: boolean } = {}) {
  return execa(process.execPath, [cli, ...args], { reject: false, all: true, env: { CI: 'true', KUBELAB_HOME: home }, ...options });
}

/** Checks every 200 ms until `check` holds, up to a deadline (docker has no watch for this). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function clusterContainers(): Promise<string> {
  return (await execa('docker', ['ps', '-a', '--filter', `label=k3d.cluster=${CLUSTER}`, '--format', '{{.Names}}'])).stdout;
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'kubelab-concurrent-'));
  process.env.KUBELAB_HOME = home; // claimHolder reads the same state dir as the runs
});
afterAll(async () => {
  delete process.env.KUBELAB_HOME;
  await rm(home, { recursive: true, force: true });
});

describe('a second run of a lesson that is running', () => {
  test('is refused with the first run\'s pid; the first, interrupted, still cleans up', async () => {
    const first = kubelab(['run', 'lesson-1']);
    // Its claim is written before anything is provisioned; the run is live from then on.
    let claim = await claimHolder(CLUSTER);
    const deadline = Date.now() + 60_000;
    while (!claim && Date.now() < deadline && first.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      claim = await claimHolder(CLUSTER);
    }
    expect(claim?.pid).toBe(first.pid);

    const second = await kubelab(['run', 'lesson-1']);
    expect(second.stderr).toContain(`cluster ${CLUSTER} is in use by another kubelab run: pid ${first.pid} (\`run lesson-1\`)`);
    expect(second.exitCode).toBe(3);

    first.kill('SIGINT');
    const result = await first;
    expect(result.exitCode).toBe(130);
    expect(await clusterContainers()).toBe('');
    expect(await claimHolder(CLUSTER)).toBeUndefined();
  }, 10 * 60_000);

  test('a run killed with SIGKILL leaks its cluster; kubelab gc deletes it and its claim', async () => {
    // Its own process group, as a terminal job: SIGKILL reaches kubelab and the k3d it started.
    const victim = kubelab(['run', 'lesson-1'], { detached: true });
    await until('the run to start the cluster nodes', async () => (await clusterContainers()).includes(`k3d-${CLUSTER}-server-0`), 5 * 60_000);
    process.kill(-victim.pid!, 'SIGKILL');
    await victim;
    expect(await clusterContainers()).not.toBe('');

    const gc = await kubelab(['gc']);
    console.log(gc.all);
    expect(gc.stdout).toContain(`removed k3d cluster ${CLUSTER} (left by \`run lesson-1\`, pid ${victim.pid}`);
    // The registry the run started (its nodes pull through it) goes too, once its cluster is gone.
    expect(gc.stdout).toContain(`removed registry container ${MACHINE_REGISTRY_CONTAINER}`);
    expect(await registryContainerExists()).toBe(false);
    expect(gc.exitCode).toBe(0);
    expect(await clusterContainers()).toBe('');
    expect((await kubelab(['gc'])).stdout).toBe('nothing left behind');
  }, 10 * 60_000);
});
