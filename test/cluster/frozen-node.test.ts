/**
 * A node killed while its own runc had a pod's cgroup frozen cannot be removed: the frozen processes
 * take no signal. Here on a real kind cluster one pod container's cgroup is frozen from the host, as
 * a kill in that moment leaves it: `docker rm --force` of that node fails, and kubelab's delete still
 * removes the cluster (it thaws what is frozen inside the nodes left after a failed attempt).
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { KindProvider } from '../../src/cluster/kind/provider.js';
import { deleteCluster } from '../../src/cluster/teardown.js';
import { thawContainers } from '../../src/docker/frozen-cgroups.js';

const MINUTE = 60_000;
const CLUSTER = 'kubelab-it-frozen';
const NODE = `${CLUSTER}-control-plane`;
const provider = new KindProvider();

/** The freeze control file of each of the node's pod containers: cgroup v1's freezer.state or v2's cgroup.freeze. */
async function podFreezeFiles(node: string): Promise<Array<{ file: string; freeze: string }>> {
  const pid = (await execa('docker', ['inspect', '--format', '{{.State.Pid}}', node])).stdout.trim();
  const cgroups = await readFile(`/proc/${pid}/cgroup`, 'utf8');
  const v1 = /^\d+:freezer:(.*)$/m.exec(cgroups)?.[1];
  const root = v1 !== undefined ? join('/sys/fs/cgroup/freezer', v1) : join('/sys/fs/cgroup', /^0::(.*)$/m.exec(cgroups)![1]!);
  const control = v1 !== undefined ? { name: 'freezer.state', freeze: 'FROZEN' } : { name: 'cgroup.freeze', freeze: '1' };
  const found: Array<{ file: string; freeze: string }> = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      if (entry.name.startsWith('cri-containerd-')) found.push({ file: join(dir, entry.name, control.name), freeze: control.freeze });
      else await walk(join(dir, entry.name));
    }
  };
  await walk(root);
  return found;
}

afterAll(async () => {
  await thawContainers([NODE]).catch(() => []);
  await execa('kind', ['delete', 'cluster', '--name', CLUSTER], { reject: false });
}, 2 * MINUTE);

describe('a node with a frozen pod cgroup', () => {
  test('docker cannot remove it; kubelab’s delete thaws it and leaves no node', async () => {
    await provider.create({ provider: 'kind', name: CLUSTER, servers: 1, agents: 0, ports: [], k3sArgs: [] });
    const [pod] = await podFreezeFiles(NODE);
    expect(pod).toBeDefined();
    await writeFile(pod!.file, pod!.freeze);
    expect((await readFile(pod!.file, 'utf8')).trim()).toMatch(/FROZEN|FREEZING|^1$/);

    const removed = await execa('docker', ['rm', '--force', NODE], { reject: false, all: true });
    expect(removed.exitCode).not.toBe(0);
    console.log(`docker rm --force ${NODE}: ${removed.all}`);

    const lines: string[] = [];
    await deleteCluster(provider, CLUSTER, { onLine: (line) => lines.push(line) });
    expect(lines.some((line) => /^thawed \d+ frozen cgroup\(s\) in kubelab-it-frozen-control-plane$/.test(line))).toBe(true);
    expect((await execa('docker', ['ps', '-a', '--filter', `label=io.x-k8s.kind.cluster=${CLUSTER}`, '--format', '{{.Names}}'])).stdout).toBe('');
  }, 6 * MINUTE);
});
