import type { V1Deployment, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.js';
import { observe } from '../kube/wait.js';
import type { TimelineRecorder } from './timeline.js';

/** Records a value only when it changes (the report draws counts as steps). */
class StepSeries {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly timeline: TimelineRecorder,
    private readonly chart: string,
    private readonly unit: string,
  ) {}

  set(label: string, value: number | undefined, at = Date.now()): void {
    if (value === undefined) return;
    const previous = this.last.get(label);
    if (previous === value) return;
    this.timeline.point(this.chart, label, this.unit, value, at);
    this.last.set(label, value);
  }

  /** Draws every series up to `at`, so a flat last stretch is visible. */
  close(at = Date.now()): void {
    for (const [label, value] of this.last) this.timeline.point(this.chart, label, this.unit, value, at);
  }
}

/**
 * Records, until `signal` aborts: the HPA's desired replicas and the utilization it read per metric
 * (with the targets), and the Deployment's ready replicas. Both are watched; a point is a change.
 */
export async function recordScaling(
  kube: Kube,
  namespace: string,
  names: { hpa: string; deployment: string },
  timeline: TimelineRecorder,
  signal: AbortSignal,
): Promise<void> {
  timeline.chart('replicas', `Replicas of ${names.deployment} (HPA desired, Deployment ready)`);
  timeline.chart('utilization', `Utilization the HPA reads (% of request) and its targets`);
  const replicas = new StepSeries(timeline, 'replicas', 'replicas');
  const utilization = new StepSeries(timeline, 'utilization', '%');
  const byName = (name: string) => `metadata.name=${name}`;
  await Promise.all([
    observe<V2HorizontalPodAutoscaler>(
      kube,
      { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', namespace, fieldSelector: byName(names.hpa) },
      ([hpa]) => {
        if (!hpa) return;
        replicas.set('desired (HPA)', hpa.status?.desiredReplicas);
        for (const metric of hpa.spec?.metrics ?? []) {
          const resource = metric.resource?.name;
          if (!resource) continue;
          utilization.set(`${resource} target`, metric.resource?.target.averageUtilization);
          const current = hpa.status?.currentMetrics?.find((m) => m.resource?.name === resource)?.resource?.current.averageUtilization;
          utilization.set(`${resource} current`, current);
        }
      },
      signal,
    ),
    observe<V1Deployment>(
      kube,
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace, fieldSelector: byName(names.deployment) },
      ([deployment]) => replicas.set('ready (Deployment)', deployment ? (deployment.status?.readyReplicas ?? 0) : undefined),
      signal,
    ),
  ]);
  replicas.close();
  utilization.close();
}
