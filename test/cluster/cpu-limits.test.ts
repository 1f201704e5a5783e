/**
 * CPU limits hold inside kubelab's nodes as on a real cluster, k3d and kind alike: a pod that spins
 * with a 100m limit gets a CFS quota of 10000 us per 100000 us period in its cgroup, and
 * metrics-server reads it at about 100m (it would read a whole core or more if the quota were off,
 * which is what k3s does on cgroup v1 hosts unless its node fixes its cgroup view).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Metrics, type V1Pod, type V1ServiceAccount } from '@kubernetes/client-node';
import { K3dProvider } from '../../src/cluster/k3d/provider.js';
import { KindProvider } from '../../src/cluster/kind/provider.js';
import type { ClusterProvider } from '../../src/cluster/provider.js';
import type { ClusterSpec } from '../../src/cluster/spec.js';
import { BUSYBOX_IMAGE } from '../../src/forge/small-images.js';
import { connect, type Kube } from '../../src/kube/client.js';
import { execInPod } from '../../src/kube/exec.js';
import { millicores } from '../../src/kube/quantity.js';
import { waitFor } from '../../src/kube/wait.js';
import { provisionCluster } from '../../src/lab/provision.js';
import { CleanupStack } from '../../src/util/cleanup.js';

const MINUTE = 60_000;
const POD = 'spin';

const spinningPod: V1Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: POD, namespace: 'default' },
  spec: {
    containers: [
      {
        name: 'spin',
        image: BUSYBOX_IMAGE,
        imagePullPolicy: 'IfNotPresent',
        command: ['sh', '-c', 'while :; do :; done'],
        resources: { requests: { cpu: '100m' }, limits: { cpu: '100m' } },
      },
    ],
  },
};

/** The container's quota and period, in microseconds, from whichever cgroup version the node has. */
const READ_QUOTA = [
  'sh',
  '-c',
  'if [ -f /sys/fs/cgroup/cpu.max ]; then cat /sys/fs/cgroup/cpu.max; ' +
    'else echo "$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"; fi',
];

/**
 * The pod's CPU from metrics-server, over a window that starts after the pod was already spinning.
 * The metrics API has no watch: it is read every 2 s until such a sample exists.
 */
async function spinningUsage(kube: Kube, startedAt: number, timeoutMs: number): Promise<{ millicores: number; window: string }> {
  const metrics = new Metrics(kube.config);
  const deadline = Date.now() + timeoutMs;
  let last = 'no sample yet';
  while (Date.now() < deadline) {
    const list = await metrics.getPodMetrics('default').catch((error: Error) => ((last = error.message), undefined));
    const sample = list?.items.find((item) => item.metadata.name === POD);
    if (sample) {
      const windowSeconds = Number.parseFloat(sample.window);
      const windowStart = Date.parse(sample.timestamp) - windowSeconds * 1000;
      last = `sample at ${sample.timestamp} over ${sample.window}`;
      if (windowStart > startedAt) return { millicores: millicores(sample.containers[0]!.usage.cpu), window: last };
    }
    await delay(2000);
  }
  throw new Error(`metrics-server gave no sample of ${POD} taken after it started within ${timeoutMs / 1000} s (${last})`);
}

const cases: Array<[string, ClusterProvider, ClusterSpec]> = [
  ['k3d', new K3dProvider(), { provider: 'k3d', name: 'kubelab-cpu-k3d', servers: 1, agents: 0, ports: [], k3sArgs: [] }],
  ['kind', new KindProvider(), { provider: 'kind', name: 'kubelab-cpu-kind', servers: 1, agents: 0, ports: [], k3sArgs: [], addons: ['metrics-server'] }],
];

describe.each(cases)('a pod with a 100m CPU limit on %s', (_name, provider, spec) => {
  const cleanup = new CleanupStack();
  let home: string;
  let kube: Kube;
  let startedAt: number;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'kubelab-cpu-home-'));
    process.env.KUBELAB_HOME = home; // kubeconfigs in this test's own state dir
    await provider.ensureAvailable();
    // A cluster of this name can only be a leftover of an interrupted run of this test.
    if (await provider.describe(spec.name)) await provider.delete(spec.name);
    const { access } = await provisionCluster(provider, spec, cleanup, { keep: false, onLine: (line) => process.stdout.write(`${line}\n`) });
    kube = connect(access);
    // A new cluster admits pods once the namespace's default ServiceAccount exists (k3d --wait returns before).
    await waitFor<V1ServiceAccount, true>(kube, {
      description: 'the default ServiceAccount',
      target: { apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'default', fieldSelector: 'metadata.name=default' },
      until: (accounts) => (accounts.length > 0 ? true : undefined),
      timeoutMs: 2 * MINUTE,
    });
    await kube.core.createNamespacedPod({ namespace: 'default', body: spinningPod });
    const pod = await waitFor<V1Pod, V1Pod>(kube, {
      description: `pod ${POD} running`,
      target: { apiVersion: 'v1', kind: 'Pod', namespace: 'default', fieldSelector: `metadata.name=${POD}` },
      until: (pods) => pods.find((p) => p.status?.containerStatuses?.[0]?.state?.running),
      timeoutMs: 8 * MINUTE,
    });
    startedAt = Date.parse(String(pod.status!.containerStatuses![0]!.state!.running!.startedAt));
  }, 20 * MINUTE);

  afterAll(async () => {
    expect(await cleanup.runAll()).toEqual([]);
    await rm(home, { recursive: true, force: true });
    expect(await provider.describe(spec.name)).toBeUndefined();
  }, 5 * MINUTE);

  test('its cgroup has a CFS quota of 10000 us per 100000 us period', async () => {
    const result = await execInPod(kube, { namespace: 'default', pod: POD, container: 'spin' }, READ_QUOTA);
    expect(result).toMatchObject({ exitCode: 0, stdout: '10000 100000\n' });
  });

  test('metrics-server reads it spinning at its limit: between 50m and 110m', async () => {
    const usage = await spinningUsage(kube, startedAt, 4 * MINUTE);
    console.log(`${POD}: ${usage.millicores}m, ${usage.window}`);
    expect(usage.millicores).toBeLessThanOrEqual(110);
    expect(usage.millicores).toBeGreaterThanOrEqual(50); // it really spins: a pod doing nothing would pass the first check
  }, 5 * MINUTE);
});
