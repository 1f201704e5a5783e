import { setTimeout as delay } from 'node:timers/promises';
import { Metrics } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.js';
import { mebibytes, millicores } from '../kube/quantity.js';
import type { TimelineRecorder } from './timeline.js';

/**
 * Records each pod's CPU (millicores) and memory (MiB) from metrics-server into the timeline until
 * `signal` aborts. The metrics API offers no watch, so it is read every `intervalMs`; a sample is
 * recorded once, at the time metrics-server took it.
 */
export async function recordPodMetrics(
  kube: Kube,
  namespace: string,
  timeline: TimelineRecorder,
  options: { intervalMs: number; signal: AbortSignal },
): Promise<void> {
  timeline.chart('cpu', 'CPU per pod (millicores, from metrics-server)');
  timeline.chart('memory', 'Memory per pod (MiB, from metrics-server)');
  const metrics = new Metrics(kube.config);
  const lastSample = new Map<string, string>();
  while (!options.signal.aborted) {
    const list = await metrics.getPodMetrics(namespace).catch(() => undefined);
    for (const pod of list?.items ?? []) {
      if (lastSample.get(pod.metadata.name) === pod.timestamp) continue;
      lastSample.set(pod.metadata.name, pod.timestamp);
      const at = Date.parse(pod.timestamp);
      const sum = (read: (c: (typeof pod.containers)[number]) => number) => pod.containers.reduce((total, c) => total + read(c), 0);
      timeline.point('cpu', pod.metadata.name, 'millicores', Math.round(sum((c) => millicores(c.usage.cpu))), at);
      timeline.point('memory', pod.metadata.name, 'MiB', Math.round(sum((c) => mebibytes(c.usage.memory)) * 10) / 10, at);
    }
    // Node's abortable delay removes its abort listener when the time is up (no listener per round).
    await delay(options.intervalMs, undefined, { signal: options.signal }).catch(() => undefined);
  }
}
