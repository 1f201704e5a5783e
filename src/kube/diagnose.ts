import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { Kube } from './client.js';

export interface DiagnoseScope {
  namespace: string;
  /** Pods to describe (their events and logs too); all pods of the namespace when absent. */
  labelSelector?: string;
  logLines?: number;
}

function eventTime(event: CoreV1Event): number {
  const at = event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata.creationTimestamp;
  return at ? new Date(at).getTime() : 0;
}

export function formatEvent(event: CoreV1Event): string {
  const at = new Date(eventTime(event)).toISOString().slice(11, 19);
  const object = `${event.involvedObject.kind}/${event.involvedObject.name}`;
  const count = (event.count ?? 1) > 1 ? ` (x${event.count})` : '';
  return `${at} ${event.type ?? ''} ${event.reason ?? ''} ${object}: ${event.message ?? ''}${count}`;
}

/** One line per pod: phase, node, readiness, and why each container is not running. */
export function describePod(pod: V1Pod): string[] {
  const lines = [`pod ${pod.metadata?.name}: ${pod.status?.phase ?? 'Unknown'} on ${pod.spec?.nodeName ?? '(unscheduled)'}`];
  for (const condition of pod.status?.conditions ?? []) {
    if (condition.status !== 'True') lines.push(`  condition ${condition.type}=${condition.status} ${condition.reason ?? ''} ${condition.message ?? ''}`.trimEnd());
  }
  for (const status of pod.status?.containerStatuses ?? []) {
    const state = status.state?.waiting
      ? `waiting: ${status.state.waiting.reason} ${status.state.waiting.message ?? ''}`
      : status.state?.terminated
        ? `terminated: ${status.state.terminated.reason} (exit ${status.state.terminated.exitCode})`
        : 'running';
    lines.push(`  container ${status.name}: ${state}, ready=${status.ready}, restarts=${status.restartCount}`.trimEnd());
  }
  return lines;
}

/**
 * What a learner needs when a wait times out: recent events of the namespace, each pod's state,
 * and the last log lines of pods that are not ready.
 */
export async function diagnose(kube: Kube, scope: DiagnoseScope): Promise<string> {
  const out: string[] = [];
  const [events, pods] = await Promise.all([
    kube.core.listNamespacedEvent({ namespace: scope.namespace }).catch(() => undefined),
    kube.core.listNamespacedPod({ namespace: scope.namespace, labelSelector: scope.labelSelector }).catch(() => undefined),
  ]);
  const recent = (events?.items ?? []).sort((a, b) => eventTime(a) - eventTime(b)).slice(-15);
  out.push(`events in ${scope.namespace} (last ${recent.length}):`, ...recent.map((e) => '  ' + formatEvent(e)));
  const podItems = pods?.items ?? [];
  if (podItems.length === 0) out.push(`no pods${scope.labelSelector ? ` match ${scope.labelSelector}` : ''} in ${scope.namespace}`);
  for (const pod of podItems) {
    out.push(...describePod(pod));
    const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    if (ready || !pod.status?.containerStatuses?.length) continue;
    const log = await kube.core
      .readNamespacedPodLog({ name: pod.metadata!.name!, namespace: scope.namespace, tailLines: scope.logLines ?? 10 })
      .catch(() => '');
    if (log) out.push(`  last log lines:`, ...String(log).trimEnd().split('\n').map((l) => '    ' + l));
  }
  return out.join('\n');
}
