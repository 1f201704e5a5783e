/**
 * Faults during a run become facts in its timeline, against a real API server (the k3s control
 * plane, no kubelet): the node and pod status a kubelet would report are written here, and the API
 * server itself is stopped and started again on the same port and data.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { V1ConfigMap, V1Node, V1NodeCondition, V1Pod, V1ServiceAccount } from '@kubernetes/client-node';
import { FORGED_K3S_IMAGE } from '../../src/cluster/k3d/config.js';
import { connect, type Kube } from '../../src/kube/client.js';
import { waitFor } from '../../src/kube/wait.js';
import { recordFaults } from '../../src/observe/faults.js';
import { faultLines, TimelineRecorder } from '../../src/observe/timeline.js';
import { startApiServer, type ApiServer } from '../support/api-server.js';

const MINUTE = 60_000;
let api: ApiServer;
let kube: Kube;

beforeAll(async () => {
  api = await startApiServer(FORGED_K3S_IMAGE);
  kube = connect({ kubeconfig: api.kubeconfig, context: api.context });
}, 5 * MINUTE);
afterAll(async () => {
  await api?.stop();
});

/** The timeline is in memory: checked every 50 ms until `line` is among its faults. */
async function recorded(timeline: TimelineRecorder, pattern: RegExp, timeoutMs = MINUTE): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = faultLines(timeline.snapshot()).find((l) => pattern.test(l));
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no fault matching ${pattern} within ${timeoutMs} ms; faults: ${faultLines(timeline.snapshot()).join('; ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function setReady(status: 'True' | 'Unknown', reason: string, message: string): Promise<void> {
  const node = await kube.core.readNode({ name: 'worker-1' });
  const now = new Date();
  const ready: V1NodeCondition = { type: 'Ready', status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now };
  // Unconditional (no resourceVersion): the node controller edits the node (taints) meanwhile.
  const metadata = { ...node.metadata, resourceVersion: undefined };
  await kube.core.replaceNodeStatus({ name: 'worker-1', body: { ...node, metadata, status: { ...node.status, conditions: [ready] } } });
}

describe('recordFaults', () => {
  test('a node NotReady and back, a pod restarted, and the API server away and back are faults in the timeline', async () => {
    const timeline = new TimelineRecorder();
    const stop = new AbortController();
    const recording = recordFaults(kube, 'default', timeline, stop.signal);
    try {
      await kube.core.createNode({ body: { metadata: { name: 'worker-1' } } as V1Node });
      await setReady('True', 'KubeletReady', 'kubelet is posting ready status');
      await setReady('Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.');
      expect(await recorded(timeline, /NodeNotReady/)).toMatch(
        /^\+\d+\.\d s node\/worker-1 NodeNotReady: Ready=Unknown \(NodeStatusUnknown: Kubelet stopped posting node status\.\)$/,
      );
      await setReady('True', 'KubeletReady', 'kubelet is posting ready status');
      expect(await recorded(timeline, /NodeReady:/)).toMatch(/node\/worker-1 NodeReady: Ready again \(was Unknown\)$/);

      // Pods are admitted once the namespace's default ServiceAccount exists (a fresh API server makes it).
      await waitFor<V1ServiceAccount, true>(kube, {
        description: 'the default ServiceAccount',
        target: { apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'default', fieldSelector: 'metadata.name=default' },
        until: (accounts) => (accounts.length > 0 ? true : undefined),
        timeoutMs: MINUTE,
      });
      const pod = await kube.core.createNamespacedPod({
        namespace: 'default',
        body: { metadata: { name: 'web' }, spec: { nodeName: 'worker-1', containers: [{ name: 'web', image: 'nginx' }] } } as V1Pod,
      });
      await kube.core.replaceNamespacedPodStatus({
        name: 'web',
        namespace: 'default',
        body: {
          ...pod,
          metadata: { ...pod.metadata, resourceVersion: undefined },
          status: {
            phase: 'Running',
            containerStatuses: [
              {
                name: 'web', image: 'nginx', imageID: '', ready: true, restartCount: 1,
                lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
                state: { running: { startedAt: new Date() } },
              },
            ],
          },
        },
      });
      expect(await recorded(timeline, /PodRestarted/)).toMatch(/pod\/web PodRestarted: 1 restart\(s\) \(last exit: OOMKilled, code 137\)$/);

      await api.halt();
      expect(await recorded(timeline, /APIServerUnreachable/)).toMatch(/apiserver APIServerUnreachable: /);
      await api.restart();
      expect(await recorded(timeline, /APIServerBack/, 2 * MINUTE)).toMatch(/apiserver APIServerBack: answering again after \d+\.\d s$/);
    } finally {
      stop.abort();
      await recording;
    }
    // In the order they happened, each once.
    const reasons = faultLines(timeline.snapshot()).map((l) => l.split(' ')[3]);
    expect(reasons.slice(0, 5)).toEqual(['NodeNotReady:', 'NodeReady:', 'PodRestarted:', 'APIServerUnreachable:', 'APIServerBack:']);
  }, 5 * MINUTE);
});

describe('waitFor across an outage of the API server', () => {
  test('goes on waiting while the API server is away, says when it went and came back, and resolves on what happened after', async () => {
    const outage: string[] = [];
    let watching!: () => void;
    const established = new Promise<void>((resolve) => (watching = resolve));
    const waiting = waitFor<V1ConfigMap, string>(kube, {
      description: 'ConfigMap after-outage',
      target: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', fieldSelector: 'metadata.name=after-outage' },
      until: (maps) => maps[0]?.data?.said,
      timeoutMs: 3 * MINUTE,
      onWatching: () => watching(),
      onUnreachable: (error) => outage.push(`unreachable: ${error.message}`),
      onReachable: () => outage.push('reachable'),
    });
    await established;
    await api.halt();
    await api.restart();
    await kube.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'after-outage' }, data: { said: 'back' } } });
    expect(await waiting).toBe('back');
    expect(outage).toHaveLength(2);
    expect(outage[0]).toMatch(/^unreachable: /);
    expect(outage[1]).toBe('reachable');
  }, 5 * MINUTE);

  test('a wait whose time runs out during an outage names the outage, not a diagnosis of a cluster it cannot reach', async () => {
    await api.halt();
    try {
      const waiting = waitFor<V1ConfigMap, true>(kube, {
        description: 'ConfigMap never-made',
        target: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', fieldSelector: 'metadata.name=never-made' },
        until: (maps) => (maps.length > 0 ? true : undefined),
        timeoutMs: 3000,
        diagnose: async () => 'diagnosis',
      });
      await expect(waiting).rejects.toMatchObject({
        message: 'timed out after 3s waiting for ConfigMap never-made',
        diagnostic: expect.stringMatching(/^the API server has not answered for \d+ s: https:\/\/127\.0\.0\.1:\d+\/api\/v1.*ECONNREFUSED/),
      });
    } finally {
      await api.restart();
    }
  }, 5 * MINUTE);
});
