import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.js';
import { observe } from '../kube/wait.js';
import type { TimelineRecorder } from './timeline.js';
import type { Fault } from './fault.js';
import { recordNodeContainerFaults } from './node-containers.js';

/** A node's Ready condition as `True`, `False` or `Unknown`, with why; none while it registers. */
function readiness(node: V1Node): { status: string; why: string } | undefined {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  return ready && { status: ready.status, why: `${ready.reason ?? ''}: ${ready.message ?? ''}` };
}

/**
 * Node faults between two observations: a node that stops being Ready (or is not Ready when first
 * seen), and one that becomes Ready again. `known` holds each node's last Ready status and is updated.
 */
export function nodeFaults(known: Map<string, string>, nodes: V1Node[]): Fault[] {
  const faults: Fault[] = [];
  for (const node of nodes) {
    const name = node.metadata?.name ?? '';
    const ready = readiness(node);
    if (!ready) continue;
    const { status, why } = ready;
    const before = known.get(name);
    known.set(name, status);
    if (before === status || (before === undefined && status === 'True')) continue;
    if (status === 'True') faults.push({ reason: 'NodeReady', object: `node/${name}`, message: `Ready again (was ${before})` });
    else faults.push({ reason: 'NodeNotReady', object: `node/${name}`, message: `Ready=${status} (${why})` });
  }
  return faults;
}

/** Pod faults between two observations: containers restarted, pods evicted. `known` is updated. */
export function podFaults(known: Map<string, { restarts: number; evicted: boolean }>, pods: V1Pod[]): Fault[] {
  const faults: Fault[] = [];
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    const restarts = (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + c.restartCount, 0);
    const evicted = pod.status?.reason === 'Evicted';
    const before = known.get(name) ?? { restarts: 0, evicted: false };
    known.set(name, { restarts, evicted });
    if (restarts > before.restarts) {
      const last = pod.status?.containerStatuses?.find((c) => c.lastState?.terminated)?.lastState?.terminated;
      const how = last ? ` (last exit: ${last.reason ?? 'terminated'}, code ${last.exitCode})` : '';
      faults.push({ reason: 'PodRestarted', object: `pod/${name}`, message: `${restarts} restart(s)${how}` });
    }
    if (evicted && !before.evicted) faults.push({ reason: 'PodEvicted', object: `pod/${name}`, message: pod.status?.message ?? 'evicted' });
  }
  return faults;
}

/**
 * Records faults during a run into the timeline, marked as faults, until `signal` aborts: nodes
 * going NotReady and back, pods of the lesson's namespace restarting or evicted, the API server
 * going away and coming back, and, given the docker label of the cluster's node containers, what
 * Docker sees happen to them (a node container killed, restarted or removed, the daemon itself
 * restarting). A node container removed is also told to `onRemoved`: the cluster is going away.
 */
export async function recordFaults(
  kube: Kube,
  namespace: string,
  timeline: TimelineRecorder,
  signal: AbortSignal,
  nodeContainers?: { label: string; onRemoved: (fault: Fault) => void },
): Promise<void> {
  const record = (fault: Fault) => timeline.event({ source: 'kubelab', ...fault, fault: true });
  const nodes = new Map<string, string>();
  const pods = new Map<string, { restarts: number; evicted: boolean }>();
  // One outage for both watches: whichever notices first records it, the first to read again ends it.
  let unreachableSince: number | undefined;
  const outages = {
    onUnreachable: (error: Error) => {
      if (unreachableSince !== undefined) return;
      unreachableSince = Date.now();
      record({ reason: 'APIServerUnreachable', object: 'apiserver', message: error.message });
    },
    onReachable: () => {
      if (unreachableSince === undefined) return;
      record({ reason: 'APIServerBack', object: 'apiserver', message: `answering again after ${((Date.now() - unreachableSince) / 1000).toFixed(1)} s` });
      unreachableSince = undefined;
    },
  };
  // A recorder that cannot go on says so in the report; it never fails the run it observes.
  const noteFailure = (what: string) => (error: Error) => timeline.note(`faults of ${what} were not recorded after: ${error.message}`);
  await Promise.all([
    observe<V1Node>(kube, { apiVersion: 'v1', kind: 'Node' }, (list) => nodeFaults(nodes, list).forEach(record), signal, outages).catch(noteFailure('nodes')),
    observe<V1Pod>(kube, { apiVersion: 'v1', kind: 'Pod', namespace }, (list) => podFaults(pods, list).forEach(record), signal, outages).catch(noteFailure('pods')),
    nodeContainers &&
      recordNodeContainerFaults(
        nodeContainers.label,
        (fault) => {
          record(fault);
          if (fault.reason === 'NodeContainerRemoved') nodeContainers.onRemoved(fault);
        },
        signal,
      ).catch(noteFailure('node containers')),
  ]);
}
