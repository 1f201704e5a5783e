import type { CoreV1Event, V1Deployment, V1EndpointSlice, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { Trace, TraceHop } from './types.js';

/** The hops of "the flow every source draws", in order, with the component responsible for each. */
export const HOPS = [
  { step: 'stored', component: 'kube-apiserver' },
  { step: 'ReplicaSet created', component: 'deployment controller' },
  { step: 'Pod created', component: 'replicaset controller' },
  { step: 'Scheduled', component: 'scheduler' },
  { step: 'Pulled', component: 'kubelet' },
  { step: 'Created', component: 'kubelet' },
  { step: 'Started', component: 'kubelet' },
  { step: 'Ready', component: 'kubelet' },
  { step: 'endpoint added', component: 'endpointslice controller' },
  { step: 'first answer via Ingress', component: 'ingress controller' },
] as const;

export type HopStep = (typeof HOPS)[number]['step'];

/** The kubelet's container events, by the hop they mark. */
const KUBELET_EVENTS = ['Pulled', 'Created', 'Started'] as const;

const componentOf = (step: HopStep) => HOPS.find((h) => h.step === step)!.component;

export interface TracedObjects {
  deployment?: V1Deployment;
  replicaSets: V1ReplicaSet[];
  pods: V1Pod[];
  events: CoreV1Event[];
  slices: V1EndpointSlice[];
}

const ownedBy = (owner: { metadata?: { uid?: string } } | undefined) => (o: { metadata?: { ownerReferences?: { uid: string }[] } }) =>
  owner?.metadata?.uid !== undefined && (o.metadata?.ownerReferences ?? []).some((r) => r.uid === owner.metadata!.uid);

/** Watched objects are parsed JSON: their timestamps are strings, whatever the client's types say. */
const timeOf = (time: Date | string | undefined) => (time === undefined ? undefined : new Date(time).getTime());

const created = (o: { metadata?: { creationTimestamp?: Date } }) => timeOf(o.metadata?.creationTimestamp) ?? Infinity;

/**
 * The objects one trace follows: the Deployment's oldest ReplicaSet and that ReplicaSet's first pod
 * (the first pod is the one whose path from apply to answer the learner waits for).
 */
function followed(objects: TracedObjects): { replicaSet?: V1ReplicaSet; pod?: V1Pod } {
  const replicaSet = objects.replicaSets.filter(ownedBy(objects.deployment)).sort((a, b) => created(a) - created(b))[0];
  const pod = objects.pods.filter(ownedBy(replicaSet)).sort((a, b) => created(a) - created(b))[0];
  return { replicaSet, pod };
}

const isReady = (pod: V1Pod) => (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

const eventsOf = (events: CoreV1Event[], pod: V1Pod, reason: string) =>
  events.filter((e) => e.involvedObject.uid === pod.metadata?.uid && e.reason === reason);

/** When the event happened: eventTime (microseconds) where the reporter set it, else its whole-second timestamps. */
function eventTime(event: CoreV1Event): number | undefined {
  return timeOf(event.eventTime ?? event.firstTimestamp ?? event.lastTimestamp ?? event.metadata?.creationTimestamp);
}

function readyEndpointFor(slices: V1EndpointSlice[], pod: V1Pod): V1EndpointSlice | undefined {
  return slices.find((s) =>
    (s.endpoints ?? []).some((e) => e.targetRef?.uid === pod.metadata?.uid && e.conditions?.ready === true),
  );
}

/** Details of the hops that hold in `objects` right now, by step. */
function holdingHops(objects: TracedObjects): Map<HopStep, string> {
  const holding = new Map<HopStep, string>();
  const { deployment } = objects;
  if (!deployment) return holding;
  const namespace = deployment.metadata?.namespace ?? '';
  holding.set('stored', `deployment ${namespace}/${deployment.metadata?.name}`);
  const { replicaSet, pod } = followed(objects);
  if (!replicaSet) return holding;
  holding.set('ReplicaSet created', `replicaset ${replicaSet.metadata?.name}`);
  if (!pod) return holding;
  const podName = `pod ${pod.metadata?.name}`;
  holding.set('Pod created', podName);
  if (pod.spec?.nodeName) holding.set('Scheduled', `${podName} to ${pod.spec.nodeName}`);
  for (const reason of KUBELET_EVENTS) {
    const [event] = eventsOf(objects.events, pod, reason);
    if (event) holding.set(reason, event.message ?? reason);
  }
  if (isReady(pod)) holding.set('Ready', podName);
  const slice = readyEndpointFor(objects.slices, pod);
  if (slice) holding.set('endpoint added', `endpointslice ${slice.metadata?.name} (${pod.status?.podIP ?? 'pod IP'})`);
  return holding;
}

/**
 * Builds a trace from what kubelab's watches saw: each hop is stamped with the time the first change
 * that made it hold arrived here (millisecond clock), not the server's whole-second timestamps.
 */
export class WatchedTrace {
  private readonly seen = new Map<HopStep, TraceHop>();

  constructor(
    private readonly subject: string,
    private readonly startedAt: number,
    /** The hops this trace can see (no Ingress hop without a request to send). */
    private readonly expected: readonly HopStep[] = HOPS.map((h) => h.step),
  ) {}

  /** Called after every watched change with the current objects. */
  update(objects: TracedObjects, at = Date.now()): void {
    for (const [step, detail] of holdingHops(objects)) this.record(step, detail, at);
  }

  record(step: HopStep, detail: string, at = Date.now()): void {
    if (!this.seen.has(step)) this.seen.set(step, { step, component: componentOf(step), at, detail, source: 'watch' });
  }

  has(step: HopStep): boolean {
    return this.seen.has(step);
  }

  result(): Trace {
    return assemble(this.subject, this.startedAt, [...this.seen.values()], this.expected);
  }
}

/**
 * Builds a trace after the fact from the timestamps the API server stored (whole seconds, except
 * events that carry eventTime): what `kubelab verify --trace` can know about a cluster it did not watch.
 */
export function traceFromStoredTimes(subject: string, objects: TracedObjects): Trace {
  const hops: TraceHop[] = [];
  const add = (step: HopStep, at: number | undefined, detail: string) => {
    if (at !== undefined) hops.push({ step, component: componentOf(step), at, detail, source: 'server' });
  };
  const holding = holdingHops(objects);
  const { replicaSet, pod } = followed(objects);
  const condition = (type: string) => timeOf(pod?.status?.conditions?.find((c) => c.type === type && c.status === 'True')?.lastTransitionTime);
  const times: Partial<Record<HopStep, number | undefined>> = {
    stored: timeOf(objects.deployment?.metadata?.creationTimestamp),
    'ReplicaSet created': timeOf(replicaSet?.metadata?.creationTimestamp),
    'Pod created': timeOf(pod?.metadata?.creationTimestamp),
    Scheduled: (pod && eventsOf(objects.events, pod, 'Scheduled').map(eventTime)[0]) ?? condition('PodScheduled'),
    Ready: condition('Ready'),
  };
  for (const reason of KUBELET_EVENTS) times[reason] = pod ? eventsOf(objects.events, pod, reason).map(eventTime)[0] : undefined;
  const slice = pod && readyEndpointFor(objects.slices, pod);
  const trigger = slice?.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'];
  if (trigger) times['endpoint added'] = timeOf(trigger);
  for (const [step, detail] of holding) add(step, times[step], detail);
  const startedAt = hops.find((h) => h.step === 'stored')?.at ?? Date.now();
  // An answer through the Ingress leaves no record in the API: after the fact it cannot be expected.
  return assemble(subject, startedAt, hops, HOPS.map((h) => h.step).filter((step) => step !== INGRESS_HOP));
}

/** The last hop, seen only by sending a request through the Ingress. */
export const INGRESS_HOP: HopStep = 'first answer via Ingress';

function assemble(subject: string, startedAt: number, hops: TraceHop[], expected: readonly HopStep[]): Trace {
  const order = (hop: TraceHop) => HOPS.findIndex((h) => h.step === hop.step);
  return {
    subject,
    startedAt,
    hops: [...hops].sort((a, b) => order(a) - order(b)),
    missing: expected.filter((step) => !hops.some((hop) => hop.step === step)),
  };
}
