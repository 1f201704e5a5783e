import { describe, expect, test } from '@jest/globals';
import { HOPS, INGRESS_HOP, traceFromStoredTimes, WatchedTrace, type TracedObjects } from '../../src/trace/hops.js';

// Objects as a watch delivers them: parsed JSON, timestamps as strings.
const deployment = { metadata: { name: 'myapp', namespace: 'default', uid: 'd1', creationTimestamp: '2026-11-23T10:00:00Z' } };
const replicaSet = (uid: string, created: string) => ({
  metadata: { name: `myapp-${uid}`, uid, creationTimestamp: created, ownerReferences: [{ uid: 'd1' }] },
});
const pod = (overrides: Record<string, unknown> = {}) => ({
  metadata: { name: 'myapp-abc', uid: 'p1', creationTimestamp: '2026-11-23T10:00:01Z', ownerReferences: [{ uid: 'r1' }] },
  spec: { nodeName: undefined as string | undefined },
  status: { podIP: '10.42.1.5', conditions: [] as unknown[] },
  ...overrides,
});
const event = (reason: string, at: string, eventTime?: string) => ({
  metadata: { name: `e-${reason}` },
  involvedObject: { kind: 'Pod', name: 'myapp-abc', uid: 'p1' },
  reason,
  message: `${reason} message`,
  lastTimestamp: at,
  ...(eventTime ? { eventTime } : {}),
});
const slice = (ready: boolean) => ({
  metadata: { name: 'myapp-service-x1', annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2026-11-23T10:00:06Z' } },
  endpoints: [{ targetRef: { uid: 'p1' }, conditions: { ready } }],
});

const objects = (parts: Partial<TracedObjects>): TracedObjects => ({ replicaSets: [], pods: [], events: [], slices: [], ...parts }) as TracedObjects;

describe('WatchedTrace', () => {
  test('stamps each hop with the time of the first change that made it hold', () => {
    const trace = new WatchedTrace('deployment default/myapp', 1000);
    trace.update(objects({ deployment } as never), 1010);
    trace.update(objects({ deployment, replicaSets: [replicaSet('r1', '2026-11-23T10:00:00Z')] } as never), 1020);
    trace.update(objects({ deployment, replicaSets: [replicaSet('r1', '2026-11-23T10:00:00Z')], pods: [pod()] } as never), 1030);
    const scheduled = pod({ spec: { nodeName: 'agent-1' } });
    trace.update(objects({ deployment, replicaSets: [replicaSet('r1', '2026-11-23T10:00:00Z')], pods: [scheduled] } as never), 1045);
    // A later change where the same hops still hold does not move their times.
    trace.update(objects({ deployment, replicaSets: [replicaSet('r1', '2026-11-23T10:00:00Z')], pods: [scheduled] } as never), 2000);
    const result = trace.result();
    expect(result.hops.map((h) => [h.step, h.at])).toEqual([
      ['stored', 1010],
      ['ReplicaSet created', 1020],
      ['Pod created', 1030],
      ['Scheduled', 1045],
    ]);
    expect(result.hops.find((h) => h.step === 'Scheduled')).toMatchObject({ component: 'scheduler', detail: 'pod myapp-abc to agent-1', source: 'watch' });
    expect(result.missing).toEqual(['Pulled', 'Created', 'Started', 'Ready', 'endpoint added', 'first answer via Ingress']);
  });

  test('follows only pods of the Deployment’s own ReplicaSet, the oldest first', () => {
    const trace = new WatchedTrace('deployment default/myapp', 0);
    const stranger = pod({ metadata: { name: 'other', uid: 'x', creationTimestamp: '2026-11-23T09:00:00Z', ownerReferences: [{ uid: 'someone' }] } });
    trace.update(objects({ deployment, replicaSets: [replicaSet('r1', '2026-11-23T10:00:00Z')], pods: [stranger, pod()] } as never), 5);
    expect(trace.result().hops.find((h) => h.step === 'Pod created')?.detail).toBe('pod myapp-abc');
  });

  test('an endpoint counts only when it is ready', () => {
    const trace = new WatchedTrace('d', 0);
    const ready = pod({ status: { podIP: '10.42.1.5', conditions: [{ type: 'Ready', status: 'True' }] } });
    const base = { deployment, replicaSets: [replicaSet('r1', '2026-11-23T10:00:00Z')], pods: [ready] };
    trace.update(objects({ ...base, slices: [slice(false)] } as never), 10);
    expect(trace.has('endpoint added')).toBe(false);
    trace.update(objects({ ...base, slices: [slice(true)] } as never), 20);
    expect(trace.result().hops.find((h) => h.step === 'endpoint added')).toMatchObject({ at: 20, detail: 'endpointslice myapp-service-x1 (10.42.1.5)' });
  });
});

describe('traceFromStoredTimes', () => {
  test('uses server timestamps, eventTime where the reporter set it', () => {
    const ready = pod({
      spec: { nodeName: 'agent-2' },
      status: {
        podIP: '10.42.1.5',
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-11-23T10:00:01Z' },
          { type: 'Ready', status: 'True', lastTransitionTime: '2026-11-23T10:00:05Z' },
        ],
      },
    });
    const trace = traceFromStoredTimes('deployment default/myapp', objects({
      deployment,
      replicaSets: [replicaSet('r1', '2026-11-23T10:00:00Z')],
      pods: [ready],
      events: [event('Scheduled', '2026-11-23T10:00:01Z', '2026-11-23T10:00:01.234567Z'), event('Pulled', '2026-11-23T10:00:02Z'), event('Started', '2026-11-23T10:00:03Z')],
      slices: [slice(true)],
    } as never));
    const at = (step: string) => trace.hops.find((h) => h.step === step)?.at;
    expect(at('Scheduled')).toBe(Date.parse('2026-11-23T10:00:01.234Z'));
    expect(at('Pulled')).toBe(Date.parse('2026-11-23T10:00:02Z'));
    expect(at('Ready')).toBe(Date.parse('2026-11-23T10:00:05Z'));
    expect(at('endpoint added')).toBe(Date.parse('2026-11-23T10:00:06Z'));
    expect(trace.hops.every((h) => h.source === 'server')).toBe(true);
    expect(trace.startedAt).toBe(Date.parse('2026-11-23T10:00:00Z'));
    // An answer through the Ingress leaves no record in the API: after the fact it is not expected.
    expect(trace.missing).toEqual(['Created']);
  });

  test('no Deployment: every hop the API records is missing', () => {
    expect(traceFromStoredTimes('d', objects({})).missing).toHaveLength(9);
  });

  test('a watched trace with no request to send expects no answer through the Ingress', () => {
    const steps = HOPS.map((h) => h.step).filter((step) => step !== INGRESS_HOP);
    const trace = new WatchedTrace('deployment default/web', 1000, steps);
    expect(trace.result().missing).toEqual(steps);
    expect(trace.result().missing).not.toContain('first answer via Ingress');
  });
});
