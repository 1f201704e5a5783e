/**
 * Faults during a run become facts in its timeline, against a real API server (the k3s control
 * plane, no kubelet): the node and pod status a kubelet would report are written here, and the API
 * server itself is stopped and started again on the same port and data.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { V1Node, V1NodeCondition, V1Pod, V1ServiceAccount } from '@kubernetes/client-node';
import { FORGED_K3S_IMAGE } from '../../src/cluster/k3d/config.js';
import { connect, type Kube } from '../../src/kube/client.js';
import { waitFor } from '../../src/kube/wait.js';
import { recordFaults } from '../../src/observe/faults.js';
import { faultLines, TimelineRecorder } from '../../src/report/timeline.js';
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
