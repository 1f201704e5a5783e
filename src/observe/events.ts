import type { CoreV1Event } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.js';
import { observe } from '../kube/wait.js';
import type { TimelineRecorder } from './timeline.js';

/**
 * Records the namespace's events into the timeline until `signal` aborts, each at the moment the
 * watch delivered it (a repeated event counts again when its count grows); events older than the
 * timeline keep the time the server stored.
 */
export async function recordEvents(kube: Kube, namespace: string, timeline: TimelineRecorder, signal: AbortSignal): Promise<void> {
  const seen = new Map<string, number>();
  await observe<CoreV1Event>(
    kube,
    { apiVersion: 'v1', kind: 'Event', namespace },
    (events) => {
      for (const event of events) {
        const key = event.metadata?.uid ?? `${event.metadata?.name}`;
        const count = event.count ?? 1;
        if ((seen.get(key) ?? 0) >= count) continue;
        seen.set(key, count);
        const stored = Date.parse(String(event.lastTimestamp ?? event.eventTime ?? ''));
        timeline.event({
          source: event.source?.component ?? event.reportingComponent ?? 'unknown',
          reason: event.reason ?? '',
          message: event.message ?? '',
          object: `${event.involvedObject.kind?.toLowerCase()}/${event.involvedObject.name}`,
        }, stored < timeline.startedAt ? stored : Date.now());
      }
    },
    signal,
  );
}
