/**
 * Ctrl-C in the middle of a run: kubelab stops, deletes the half-made cluster and exits 130, leaving
 * no container, volume or network behind (listr2's own SIGINT handler once exited at once, code 127,
 * leaving the cluster behind; this guards against that). The same when the process reading its
 * output is gone before the signal (a CI runner killed, a terminal closed).
 */
import { describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { packageRoot } from '../../src/util/paths.js';
import { clusterLeftovers, registryContainerExists } from '../support/leftovers.js';

const CLUSTER = 'yadoc-exposed';

/** Polls for a process whose command line contains `text` (pgrep), up to a deadline. */
async function processAppears(text: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await execa('pgrep', ['-f', text], { reject: false })).exitCode === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe('interrupting a run', () => {
  test("Ctrl-C to the whole process group while the cluster is being deleted: the delete finishes, exit 130", async () => {
    // detached: kubelab leads its own process group, as a shell's foreground job does; the signal
    // goes to the group, as a terminal's Ctrl-C does (so it reaches every child kubelab started).
    const child = execa(process.execPath, [join(packageRoot(), 'bin', 'kubelab.js'), 'run', 'lesson-4'], {
      reject: false,
      all: true,
      detached: true,
      env: { CI: 'true' },
    });
    const deleting = processAppears('kind delete cluster --name k8s-master-machine', 10 * 60_000);
    expect(await deleting).toBe(true);
    process.kill(-child.pid!, 'SIGINT');
    const result = await child;
    console.log(result.all);
    expect(result.exitCode).toBe(130);
    expect(result.all).not.toMatch(/cleanup failed/);
    const nodes = await execa('docker', ['ps', '-a', '--filter', 'label=io.x-k8s.kind.cluster=k8s-master-machine', '--format', '{{.Names}}']);
    expect(nodes.stdout).toBe('');
    const network = await execa('docker', ['network', 'ls', '--filter', 'name=^kubelab-kind$', '--format', '{{.Name}}']);
    expect(network.stdout).toBe('');
  }, 15 * 60_000);

  test('SIGTERM while the cluster boots, with nobody reading its output any more: exit 130, cluster deleted', async () => {
    const registryBefore = await registryContainerExists();
    // node's own spawn: execa signals a child whose streams break, which would hide what is tested.
    const child = spawn(process.execPath, [join(packageRoot(), 'bin', 'kubelab.js'), 'run', 'lesson-1'], { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const agent = ['ps', '--quiet', '--filter', `name=^k3d-${CLUSTER}-agent-0$`, '--filter', 'status=running'];
    while (child.exitCode === null && (await execa('docker', agent)).stdout.trim() === '') await delay(50);
    // Its reader gone: every later write of kubelab's fails with EPIPE, its signal notice first.
    child.stdout.destroy();
    child.stderr.destroy();
    child.kill('SIGTERM');
    const timeout = new AbortController();
    const ended = await Promise.race([exited, delay(3 * 60_000, undefined, { signal: timeout.signal }).catch(() => undefined)]);
    timeout.abort();
    if (!ended) child.kill('SIGKILL');
    expect(ended).toEqual([130, null]);
    expect(await clusterLeftovers(CLUSTER)).toEqual([]);
    if (!registryBefore) expect(await registryContainerExists()).toBe(false);
  }, 10 * 60_000);

  test('SIGINT while the cluster boots: exit 130, cluster deleted', async () => {
    const child = execa(process.execPath, [join(packageRoot(), 'bin', 'kubelab.js'), 'run', 'lesson-1'], {
      reject: false,
      all: true,
      env: { CI: 'true' },
    });
    // The nodes exist once k3d starts the agents: interrupt then, mid-create. (k3d's own lines go to
    // the tool log, not to plain output: the agent's container running is the sign.)
    const agent = ['ps', '--quiet', '--filter', `name=^k3d-${CLUSTER}-agent-0$`, '--filter', 'status=running'];
    while (child.exitCode === null && (await execa('docker', agent)).stdout.trim() === '') await new Promise((resolve) => setTimeout(resolve, 50));
    child.kill('SIGINT');
    const result = await child;
    console.log(result.all);
    expect(result.exitCode).toBe(130);
    expect(result.stderr).toContain('interrupted; cleanup done');
    expect(await clusterLeftovers(CLUSTER)).toEqual([]);
  }, 10 * 60_000);
});
