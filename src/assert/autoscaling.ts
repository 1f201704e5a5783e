import type { CoreV1Event, V1Deployment, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { Assertion } from '../lab/types.js';
import { watched } from './eventually.js';

/** The HPA reports a current value for each of its Resource metrics (metrics-server answers). */
export function hpaReadsMetrics(name: string, resources: string[]): Assertion {
  return watched<V2HorizontalPodAutoscaler>({
    name: `HPA ${name} reads ${resources.join(' and ')} metrics`,
    expected: resources.map((r) => `current ${r} utilization reported`).join('; '),
    target: (ctx) => ({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', namespace: ctx.namespace, fieldSelector: `metadata.name=${name}` }),
    evaluate: ([hpa]) => {
      if (!hpa) return { pass: false, observed: `no HPA ${name}` };
      const current = new Map(
        (hpa.status?.currentMetrics ?? [])
          .filter((m) => m.resource?.current.averageUtilization !== undefined)
          .map((m) => [m.resource!.name, m.resource!.current.averageUtilization!]),
      );
      const able = hpa.status?.conditions?.find((c) => c.type === 'ScalingActive');
      return {
        pass: resources.every((r) => current.has(r)),
        observed:
          [...current].map(([r, v]) => `${r} ${v}%`).join(', ') +
          (able ? ` (ScalingActive=${able.status}${able.reason ? `: ${able.reason}` : ''})` : ' (no ScalingActive condition yet)'),
      };
    },
  });
}

/** A SuccessfulRescale event of the HPA whose message contains `reasonText`. */
export function rescaleEvent(hpa: string, reasonText: RegExp): Assertion {
  return watched<CoreV1Event>({
    name: `HPA ${hpa} emits SuccessfulRescale`,
    expected: `a SuccessfulRescale event matching ${reasonText}`,
    target: (ctx) => ({
      apiVersion: 'v1',
      kind: 'Event',
      namespace: ctx.namespace,
      fieldSelector: `involvedObject.name=${hpa},reason=SuccessfulRescale`,
    }),
    evaluate: (events) => {
      const matching = events.find((e) => reasonText.test(e.message ?? ''));
      return {
        pass: matching !== undefined,
        observed: matching?.message ?? (events.length ? `other rescales: ${events.map((e) => e.message).join(' | ')}` : 'no SuccessfulRescale event'),
      };
    },
  });
}

/** The Deployment has more than `floor` ready replicas. */
export function scaledAbove(deployment: string, floor: number): Assertion {
  return watched<V1Deployment>({
    name: `Deployment ${deployment} scales above ${floor} ready replica${floor === 1 ? '' : 's'}`,
    expected: `readyReplicas > ${floor}`,
    target: (ctx) => ({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ctx.namespace, fieldSelector: `metadata.name=${deployment}` }),
    evaluate: ([d]) => ({
      pass: (d?.status?.readyReplicas ?? 0) > floor,
      observed: d ? `desired ${d.spec?.replicas ?? '?'}, ready ${d.status?.readyReplicas ?? 0}` : `no Deployment ${deployment}`,
    }),
    diagnosePods: `app=${deployment}`,
  });
}
