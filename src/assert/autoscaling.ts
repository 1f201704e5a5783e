import type { CoreV1Event, V1Deployment, V1Pod, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { TimeoutError } from '../errors.js';
import { diagnose } from '../kube/diagnose.js';
import { listObjects, waitFor } from '../kube/wait.js';
import { evidenceKey } from '../lab/evidence.js';
import type { Assertion, LessonContext, Observation } from '../lab/types.js';
import { watched } from './eventually.js';

/** Evidence key of the function that stops a lesson's background load (set by its load step). */
/** Set by a lesson's load step: stops its load and resolves once it has stopped. */
export const STOP_LOAD = evidenceKey<() => Promise<void>>('stop the load');

const hpaTarget = (context: LessonContext, hpa: string) => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  namespace: context.namespace,
  fieldSelector: `metadata.name=${hpa}`,
});

/** The HPA reports a current value for each of its Resource metrics (metrics-server answers). */
export function hpaReadsMetrics(name: string, resources: string[]): Assertion {
  return watched<V2HorizontalPodAutoscaler>({
    name: `HPA ${name} reads ${resources.join(' and ')} metrics`,
    expected: resources.map((r) => `current ${r} utilization reported`).join('; '),
    target: (ctx) => hpaTarget(ctx, name),
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
async function scaledUpSizes(context: LessonContext, deployment: string): Promise<number[]> {
  // "Scaled up replica set myapp-6d4f9 from 1 to 4" (Kubernetes 1.29+), "... to 4" before.
  const pattern = new RegExp(`^Scaled up replica set ${deployment}-\\S+ (?:from \\d+ )?to (\\d+)`);
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
      const sizes = await scaledUpSizes(context, deployment);
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

/** Two HPA syncs (15 s each) and a metrics-server scrape without a change: the scale-up has settled. */
const SETTLED_MS = 45_000;

const desiredOf = (hpa: V2HorizontalPodAutoscaler | undefined) => hpa?.status?.desiredReplicas ?? 0;

/**
 * Waits until the HPA's desired replicas have not changed for SETTLED_MS (or the deadline passes),
 * watching it: each change restarts the quiet period. Returns the settled count.
 */
async function settledDesired(context: LessonContext, hpa: string, deadline: number): Promise<number> {
  let desired: number | undefined;
  for (;;) {
    const quietFor = Math.min(SETTLED_MS, deadline - Date.now());
    if (quietFor <= 0) return desired ?? 0;
    try {
      desired = await waitFor<V2HorizontalPodAutoscaler, number>(context.kube, {
        description: `HPA ${hpa} desired replicas to change`,
        target: hpaTarget(context, hpa),
        until: ([current]) => {
          if (!current) return undefined;
          if (desired === undefined) desired = desiredOf(current); // the first list: the count to watch
          return desiredOf(current) !== desired ? desiredOf(current) : undefined;
        },
        timeoutMs: quietFor,
        signal: context.signal,
      });
    } catch (error) {
      if (error instanceof TimeoutError) return desired ?? 0;
      throw error;
    }
  }
}

/** The HPA controller's default tolerance: a metric within 10% of its target proposes no change. */
const TOLERANCE = 0.1;

interface Proposal {
  resource: string;
  current: number;
  target: number;
  replicas: number;
  /**
   * The proposal at current + 1: the status shows utilization as a whole percentage, the controller
   * computes with the exact value, so near a boundary either count is right.
   */
  replicasUpTo: number;
}

const propose = (replicas: number, current: number, target: number) => {
  const ratio = current / target;
  return Math.abs(ratio - 1) <= TOLERANCE ? replicas : Math.ceil(replicas * ratio);
};

/**
 * What each Resource metric proposes, as the HPA computes it: ceil(replicas x current / target),
 * or no change within the tolerance. The HPA takes the largest, within min and max replicas.
 */
export function proposals(hpa: V2HorizontalPodAutoscaler): Proposal[] {
  const replicas = hpa.status?.currentReplicas ?? 0;
  return (hpa.spec?.metrics ?? []).flatMap((metric) => {
    const resource = metric.resource?.name;
    const target = metric.resource?.target.averageUtilization;
    const current = hpa.status?.currentMetrics?.find((m) => m.resource?.name === resource)?.resource?.current.averageUtilization;
    if (!resource || target === undefined || current === undefined) return [];
    return [{ resource, current, target, replicas: propose(replicas, current, target), replicasUpTo: propose(replicas, current + 1, target) }];
  });
}

/** The replica counts the HPA may settle on now: [from the shown utilization, from one point more]. */
export function expectedReplicas(hpa: V2HorizontalPodAutoscaler): [number, number] {
  const clamp = (n: number) => Math.min(hpa.spec?.maxReplicas ?? n, Math.max(hpa.spec?.minReplicas ?? 1, n));
  const all = proposals(hpa);
  return [clamp(Math.max(...all.map((p) => p.replicas))), clamp(Math.max(...all.map((p) => p.replicasUpTo)))];
}

const describeProposals = (hpa: V2HorizontalPodAutoscaler | undefined) =>
  hpa ? proposals(hpa).map((p) => `${p.resource} ${p.current}% of request proposes ${p.replicas}`).join(', ') : 'no HPA status';

/** Watches the HPA until CPU reads idle and desired replicas equal the metrics' proposal. */
async function settleDown(
  context: LessonContext,
  hpa: string,
  idleCpuPercent: number,
  timeoutMs: number,
): Promise<{ settled: boolean; last?: V2HorizontalPodAutoscaler; diagnostic?: string }> {
  let last: V2HorizontalPodAutoscaler | undefined;
  const settled = (current: V2HorizontalPodAutoscaler) => {
    const cpu = proposals(current).find((p) => p.resource === 'cpu');
    const [low, high] = expectedReplicas(current);
    // The HPA's readings trail the load by a metrics window; only an idle reading is surely after it.
    // Settled means a fixed point: the Deployment has the replicas the metrics propose for it.
    const desired = desiredOf(current);
    return cpu !== undefined && cpu.current <= idleCpuPercent && desired >= low && desired <= high && desired === current.status?.currentReplicas;
  };
  try {
    await waitFor<V2HorizontalPodAutoscaler, true>(context.kube, {
      description: `HPA ${hpa} to settle where its metrics put it`,
      target: hpaTarget(context, hpa),
      until: ([current]) => {
        last = current;
        return current && settled(current) ? true : undefined;
      },
      timeoutMs,
      signal: context.signal,
      diagnose: () => diagnose(context.kube, { namespace: context.namespace }),
    });
    return { settled: true, last };
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error;
    return { settled: false, last, diagnostic: error.diagnostic };
  }
}

/**
 * Lets the scale-up settle under load, stops the lesson's load (see STOP_LOAD), then watches the
 * HPA scale down as far as its metrics allow: CPU reads idle (`idleCpuPercent` of its request, what
 * the app uses with no requests) and the Deployment reaches a fixed point, the replica count the
 * metrics propose for it (toward minReplicas). Memory that idle workers keep can stop the descent
 * early: with the course's 60% of a 50Mi request, pods at 52% propose ceil(n x 52/60), which is n
 * again for n <= 7. The observation names the metric that holds them.
 */
export function scalesDownAfterLoad(hpa: string, idleCpuPercent: number): Assertion {
  return {
    name: `HPA ${hpa} scales down as far as its metrics allow once the load stops`,
    expected: `cpu reads idle (<= ${idleCpuPercent}% of request), and the replicas settle where the largest metric proposal equals them (toward minReplicas)`,
    // After the fact (no load of kubelab's running): the HPA has settled where its metrics put it.
    async afterTheFact(context) {
      const { settled, last } = await settleDown(context, hpa, idleCpuPercent, context.assertionTimeoutMs);
      return { pass: settled, observed: `desired ${desiredOf(last)} (${describeProposals(last)})` };
    },
    async check(context: LessonContext) {
      const stopLoad = context.evidence.get(STOP_LOAD);
      if (!stopLoad) return { pass: false, observed: 'the lesson runs no load to stop (no load step before this assertion)' };
      const deadline = Date.now() + context.assertionTimeoutMs;
      const peak = await settledDesired(context, hpa, deadline);
      await stopLoad();
      const stoppedAt = Date.now();
      if (peak <= 1) return { pass: false, observed: `desired ${peak} when the load stopped: it never scaled up, so nothing can scale down` };
      const { settled, last, diagnostic } = await settleDown(context, hpa, idleCpuPercent, Math.max(deadline - Date.now(), 60_000));
      const observed = `desired ${peak} -> ${desiredOf(last)} ${Math.round((Date.now() - stoppedAt) / 1000)} s after the load stopped (${describeProposals(last)})`;
      return { pass: settled, observed, ...(diagnostic ? { diagnostic } : {}) };
    },
  };
}
