/**
 * Two runs of one lesson at once: the second is refused at once (exit 3, naming the first run's pid
 * and the cluster) and touches nothing; the first is then interrupted and cleans up as usual.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { claimHolder } from '../../src/lab/cluster-claim.js';
import { packageRoot } from '../../src/util/paths.js';

const cli = join(packageRoot(), 'bin', 'kubelab.js');
const CLUSTER = 'yadoc-exposed';
let home: string;

function kubelab(args: string[]) {
  return execa(process.execPath, [cli, ...args], { reject: false, all: true, env: { CI: 'true', KUBELAB_HOME: home } });
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
});
