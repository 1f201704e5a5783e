import type { CoreV1Event, KubernetesObject, V1Deployment, V1EndpointSlice, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.js';
import { listObjects, observe, type WatchTarget } from '../kube/wait.js';
import { requestUntil } from '../load/request.js';
import { HOPS, INGRESS_HOP, traceFromStoredTimes, WatchedTrace, type TracedObjects } from './hops.js';
import type { Trace } from './types.js';

/** What a lesson traces: its Deployment, and where the app answers through the Ingress. */
export interface TraceTarget {
  deployment: string;
  request?: { port: number; host?: string; path?: string };
}

export interface LiveTrace {
  /** Stops the watches and the request probe; the trace holds what was seen by then. */
  stop(): Promise<Trace>;
}

/** Between probes of the Ingress once the endpoint is ready: the hop is timed to about this. */
const PROBE_RETRY_MS = 50;

function targets(namespace: string, deployment: string): Record<keyof TracedObjects, WatchTarget> {
  return {
    deployment: { apiVersion: 'apps/v1', kind: 'Deployment', namespace, fieldSelector: `metadata.name=${deployment}` },
    replicaSets: { apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace },
    pods: { apiVersion: 'v1', kind: 'Pod', namespace },
    events: { apiVersion: 'v1', kind: 'Event', namespace, fieldSelector: 'involvedObject.kind=Pod' },
    slices: { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', namespace },
  };
}

/**
 * Starts watching before the lesson's manifests are applied, so each hop is timed by when it happened
 * rather than by the server's whole-second timestamps. The Ingress is probed only once the pod is an
 * endpoint (it cannot answer before), every 50 ms, until the assertion deadline.
 */
export function startTrace(kube: Kube, namespace: string, target: TraceTarget, options: { signal: AbortSignal; deadlineMs: number }): LiveTrace {
  const started = Date.now();
  const steps = HOPS.map((h) => h.step).filter((step) => target.request || step !== INGRESS_HOP);
  const trace = new WatchedTrace(`deployment ${namespace}/${target.deployment}`, started, steps);
  const stopped = new AbortController();
  const signal = AbortSignal.any([options.signal, stopped.signal]);
  const objects: TracedObjects = { replicaSets: [], pods: [], events: [], slices: [] };
  let probe: Promise<void> | undefined;

  const onChange = () => {
    trace.update(objects);
    if (target.request && trace.has('endpoint added') && !probe) probe = probeIngress(target.request);
  };
  const follow = <K extends keyof TracedObjects>(key: K) =>
    observe<KubernetesObject>(
      kube,
      targets(namespace, target.deployment)[key],
      (items) => {
        if (key === 'deployment') objects.deployment = items[0] as V1Deployment | undefined;
        else (objects[key] as KubernetesObject[]) = items;
        onChange();
      },
      signal,
    );
  const probeIngress = async (request: NonNullable<TraceTarget['request']>) => {
    const path = request.path ?? '/';
    const result = await requestUntil({
      url: `http://127.0.0.1:${request.port}${path}`,
      host: request.host,
      timeoutMs: 5000,
      signal,
      accept: (answer) => answer.status >= 200 && answer.status < 300,
      deadline: started + options.deadlineMs,
      retryMs: PROBE_RETRY_MS,
    }).catch(() => undefined);
    if (result?.accepted) {
      trace.record('first answer via Ingress', `HTTP ${result.answer!.status} from 127.0.0.1:${request.port}${path}${request.host ? ` (Host: ${request.host})` : ''} after ${result.attempts} tries`, result.at);
    }
  };

  const watches = (['deployment', 'replicaSets', 'pods', 'events', 'slices'] as const).map((key) => follow(key).catch(() => undefined));
  return {
    async stop() {
      stopped.abort();
      await Promise.all([...watches, probe]);
      return trace.result();
    },
  };
}

/** The trace of a Deployment kubelab did not watch: from the times the API server stored. */
export async function traceAfterTheFact(kube: Kube, namespace: string, deployment: string, signal: AbortSignal): Promise<Trace> {
  const all = targets(namespace, deployment);
  const list = <T extends KubernetesObject>(key: keyof TracedObjects) => listObjects<T>(kube, all[key], signal);
  const [deployments, replicaSets, pods, events, slices] = await Promise.all([
    list<V1Deployment>('deployment'),
    list<V1ReplicaSet>('replicaSets'),
    list<V1Pod>('pods'),
    list<CoreV1Event>('events'),
    list<V1EndpointSlice>('slices'),
  ]);
  return traceFromStoredTimes(`deployment ${namespace}/${deployment}`, { deployment: deployments[0], replicaSets, pods, events, slices });
}
