import type { CoreV1Event, V1Deployment, V1Pod, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { TimeoutError } from '../errors.js';
import { diagnose } from '../kube/diagnose.js';
import { listObjects, waitFor } from '../kube/wait.js';
import type { Assertion, LessonContext, Observation } from '../lab/types.js';
import { watched } from './eventually.js';

/** Evidence key of the function that stops a lesson's background load (set by its load step). */
export const STOP_LOAD = 'stop load';

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

/** The namespace's events with `reason`, oldest first (what `kubectl get events` keeps, an hour on k3s). */
async function eventsWithReason(context: LessonContext, reason: string): Promise<CoreV1Event[]> {
  const events = await listObjects<CoreV1Event>(context.kube, { apiVersion: 'v1', kind: 'Event', namespace: context.namespace, fieldSelector: `reason=${reason}` }, context.signal);
  const time = (e: CoreV1Event) => Date.parse(String(e.lastTimestamp ?? e.eventTime ?? ''));
  return events.sort((a, b) => time(a) - time(b));
}

/** The sizes a Deployment's ReplicaSets were scaled to, from the deployment controller's events. */
async function scaledSizes(context: LessonContext, deployment: string, direction: 'up' | 'down'): Promise<number[]> {
  const pattern = new RegExp(`^Scaled ${direction} replica set ${deployment}-\\S+ to (\\d+)`);
  return (await eventsWithReason(context, 'ScalingReplicaSet')).flatMap((e) => {
    const size = pattern.exec(e.message ?? '')?.[1];
    return size === undefined ? [] : [Number(size)];
  });
}

/** The Deployment has more than `floor` ready replicas (after the fact: it was scaled above `floor`). */
export function scaledAbove(deployment: string, floor: number): Assertion {
  const live = watched<V1Deployment>({
    name: `Deployment ${deployment} scales above ${floor} ready replica${floor === 1 ? '' : 's'}`,
    expected: `readyReplicas > ${floor}`,
    target: (ctx) => ({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ctx.namespace, fieldSelector: `metadata.name=${deployment}` }),
    evaluate: ([d]) => ({
      pass: (d?.status?.readyReplicas ?? 0) > floor,
      observed: d ? `desired ${d.spec?.replicas ?? '?'}, ready ${d.status?.readyReplicas ?? 0}` : `no Deployment ${deployment}`,
    }),
    diagnosePods: `app=${deployment}`,
  });
  return {
    ...live,
    async afterTheFact(context): Promise<Observation> {
      const sizes = await scaledSizes(context, deployment, 'up');
      const peak = Math.max(0, ...sizes);
      return {
        pass: peak > floor,
        observed: sizes.length ? `ScalingReplicaSet events: scaled up to ${sizes.join(', ')} (peak ${peak})` : 'no "Scaled up replica set" event in the namespace',
      };
    },
  };
}

const runningAndReady = (pod: V1Pod) =>
  pod.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/**
 * At least `replicas` pods Running and Ready, spread over at least `nodes` different nodes (after the
 * fact: the scheduler assigned pods of that name to that many nodes).
 */
export function podsSpread(labelSelector: string, replicas: number, nodes: number): Assertion {
  const live = watched<V1Pod>({
    name: `pods ${labelSelector}: ${replicas}+ Running and Ready on ${nodes}+ nodes`,
    expected: `>= ${replicas} Running and Ready pods on >= ${nodes} distinct nodes`,
    target: (ctx) => ({ apiVersion: 'v1', kind: 'Pod', namespace: ctx.namespace, labelSelector }),
    evaluate: (pods) => {
      const running = pods.filter(runningAndReady);
      const byNode = new Map<string, number>();
      for (const pod of running) byNode.set(pod.spec?.nodeName ?? '?', (byNode.get(pod.spec?.nodeName ?? '?') ?? 0) + 1);
      return {
        pass: running.length >= replicas && byNode.size >= nodes,
        observed: `${running.length} of ${pods.length} Running and Ready on ${byNode.size} nodes (${[...byNode].map(([n, c]) => `${n}: ${c}`).join(', ') || 'none'})`,
      };
    },
    diagnosePods: labelSelector,
  });
  const app = /^app=(.+)$/.exec(labelSelector)?.[1];
  return {
    ...live,
    async afterTheFact(context): Promise<Observation> {
      const assigned = (await eventsWithReason(context, 'Scheduled'))
        .map((e) => /^Successfully assigned \S+\/(\S+) to (\S+)/.exec(e.message ?? ''))
        .filter((m): m is RegExpExecArray => m !== null && (app === undefined || m[1]!.startsWith(`${app}-`)));
      const nodesUsed = new Set(assigned.map((m) => m[2]));
      return {
        pass: assigned.length >= replicas && nodesUsed.size >= nodes,
        observed: `Scheduled events: ${assigned.length} pods assigned to ${nodesUsed.size} nodes (${[...nodesUsed].join(', ') || 'none'})`,
      };
    },
  };
}

/**
 * Stops the lesson's load (see STOP_LOAD), then watches the HPA's desired replicas fall. Passes when
 * they reach minReplicas, or, when the assertion's time runs out first, when they are below the peak
 * ("toward 1": memory that a worker does not give back can hold a replica or two).
 */
export function scalesDownAfterLoad(hpa: string, deployment: string): Assertion {
  return {
    name: `HPA ${hpa} scales down after the load stops`,
    expected: 'desired replicas fall from their peak toward minReplicas',
    async afterTheFact(context) {
      const down = await scaledSizes(context, deployment, 'down');
      const up = await scaledSizes(context, deployment, 'up');
      return {
        pass: up.length > 0 && down.length > 0,
        observed: `ScalingReplicaSet events: up to ${up.join(', ') || 'never'}; down to ${down.join(', ') || 'never'}`,
      };
    },
    async check(context: LessonContext) {
      const stopLoad = context.evidence.get(STOP_LOAD) as (() => Promise<void>) | undefined;
      if (!stopLoad) return { pass: false, observed: 'the lesson runs no load to stop (no load step before this assertion)' };
      await stopLoad();
      const stoppedAt = Date.now();
      let peak = 0;
      let last: V2HorizontalPodAutoscaler | undefined;
      const describe = () => {
        const desired = last?.status?.desiredReplicas ?? 0;
        const metrics = (last?.status?.currentMetrics ?? []).map((m) => `${m.resource?.name} ${m.resource?.current.averageUtilization}%`).join(', ');
        return `desired ${peak} -> ${desired} ${Math.round((Date.now() - stoppedAt) / 1000)} s after the load stopped (min ${last?.spec?.minReplicas ?? 1}; ${metrics})`;
      };
      const min = () => last?.spec?.minReplicas ?? 1;
      try {
        const outcome = await waitFor<V2HorizontalPodAutoscaler, 'down' | 'never scaled up'>(context.kube, {
          description: `HPA ${hpa} desired replicas back at minReplicas`,
          target: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', namespace: context.namespace, fieldSelector: `metadata.name=${hpa}` },
          until: ([current]) => {
            if (!current) return undefined;
            const first = last === undefined;
            last = current;
            const desired = current.status?.desiredReplicas ?? 0;
            peak = Math.max(peak, desired);
            if (first && desired <= min()) return 'never scaled up';
            return desired <= min() ? 'down' : undefined;
          },
          timeoutMs: context.assertionTimeoutMs,
          signal: context.signal,
          diagnose: () => diagnose(context.kube, { namespace: context.namespace }),
        });
        return { pass: outcome === 'down', observed: outcome === 'down' ? describe() : `${describe()}: it never scaled up, so nothing scaled down` };
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error;
        const desired = last?.status?.desiredReplicas ?? peak;
        return { pass: desired < peak, observed: describe(), ...(desired < peak ? {} : { diagnostic: error.diagnostic }) };
      }
    },
  };
}
