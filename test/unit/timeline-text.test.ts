import { describe, expect, it } from '@jest/globals';
import { formatTimelineSummary, formatTrace } from '../../src/report/timeline-text.js';
import { TimelineRecorder } from '../../src/observe/timeline.js';
import type { Trace, TraceHop } from '../../src/trace/types.js';

function hpaTimeline() {
  const recorder = new TimelineRecorder(0);
  recorder.chart('load', 'Load through the Ingress');
  recorder.chart('replicas', 'Replicas');
  for (const [t, v] of [[0, 15], [5000, 19.94], [10_000, 17.25]] as const) recorder.point('load', 'requests', 'req/s', v, t);
  // Repeated samples of the same value are not changes.
  for (const [t, v] of [[0, 1], [20_000, 1], [41_200, 4], [50_000, 4], [70_600, 6], [219_700, 1], [230_000, 1]] as const) {
    recorder.point('replicas', 'desired', 'replicas', v, t);
  }
  recorder.event({ source: 'kubelab', reason: 'LoadStarted', message: 'load started' }, 10_000);
  recorder.event({ source: 'horizontal-pod-autoscaler', reason: 'SuccessfulRescale', message: 'New size: 4; reason: cpu above target', object: 'HorizontalPodAutoscaler/myapp' }, 41_000);
  recorder.event({ source: 'kubelet', reason: 'Pulled', message: 'Container image already present', object: 'Pod/myapp-1' }, 42_000);
  recorder.note('stabilization window shortened to 30 s');
  return recorder.snapshot();
}

describe('timeline summary', () => {
  const lines = formatTimelineSummary(hpaTimeline()).split('\n');

  it('puts the notes first', () => {
    expect(lines[0]).toBe('note: stabilization window shortened to 30 s');
  });

  it('gives min, max and last of a measured series, with its unit', () => {
    expect(lines).toContain('load requests: min 15, max 19.9, last 17.3 req/s');
  });

  it('keeps small values readable and large ones whole', () => {
    const recorder = new TimelineRecorder(0);
    for (const [t, v] of [[0, 0.0021], [1000, 0.0043]] as const) recorder.point('cpu', 'idle-pod', 'cores', v, t);
    for (const [t, v] of [[0, 1_048_576.4], [1000, 812.6]] as const) recorder.point('memory', 'pod-a', 'bytes', v, t);
    expect(formatTimelineSummary(recorder.snapshot()).split('\n')).toEqual([
      'cpu idle-pod: min 0.0021, max 0.0043, last 0.0043 cores',
      'memory pod-a: min 813, max 1048576, last 813 bytes',
    ]);
  });

  it('gives the replicas as the sequence of changes, with when each happened', () => {
    expect(lines).toContain('replicas desired: 1 → 4 at 41 s → 6 at 71 s → 1 at 220 s');
  });

  it("lists the autoscaler's rescales and kubelab's actions with their times, not other events", () => {
    expect(lines).toContain('at 10 s  LoadStarted  load started');
    expect(lines).toContain('at 41 s  SuccessfulRescale  HorizontalPodAutoscaler/myapp  New size: 4; reason: cpu above target');
    expect(lines.join('\n')).not.toContain('Pulled');
  });

  it('wraps a long run of changes to stay under 120 characters, keeping every change', () => {
    const recorder = new TimelineRecorder(0);
    for (let i = 0; i < 40; i += 1) recorder.point('replicas', 'desired', 'replicas', 1 + (i % 2), i * 10_000);
    const text = formatTimelineSummary(recorder.snapshot());
    for (const line of text.split('\n')) expect(line.length).toBeLessThan(120);
    expect(text.match(/ at \d+ s/g)).toHaveLength(39);
    expect(text).toContain('2 at 390 s');
  });

  it('is empty for an empty timeline and says when a series has no sample', () => {
    expect(formatTimelineSummary(new TimelineRecorder(0).snapshot())).toBe('');
    const text = formatTimelineSummary({ startedAt: 0, charts: [], series: [{ chart: 'cpu', label: 'pod-a', unit: 'millicores', points: [] }], events: [], notes: [] });
    expect(text).toBe('cpu pod-a: no samples');
  });
});

function hop(step: string, component: string, at: number, source: TraceHop['source'], detail = `${step} detail`): TraceHop {
  return { step, component, at, detail, source };
}

describe('trace', () => {
  const trace: Trace = {
    subject: 'deployment hpa-test/myapp',
    startedAt: 1_000_000,
    hops: [
      hop('stored', 'kube-apiserver', 1_000_000, 'watch', 'deployment hpa-test/myapp'),
      hop('ReplicaSet created', 'deployment controller', 1_000_038, 'watch'),
      hop('Scheduled', 'scheduler', 1_001_000, 'server'),
      // The server clock has whole seconds: a later hop can carry an earlier time.
      hop('container started', 'kubelet', 1_000_600, 'watch'),
    ],
    missing: ['first request answered'],
  };
  const lines = formatTrace(trace).split('\n');

  it('has one line per hop with the time since the start and the delta from the previous hop', () => {
    expect(lines[0]).toBe('trace of deployment hpa-test/myapp: 4 hops in 1000 ms');
    expect(lines[1]).toBe('     +0 ms              stored              kube-apiserver         deployment hpa-test/myapp');
    expect(lines[2]).toMatch(/^ {4}\+38 ms {3}\(\+38 ms\) +ReplicaSet created/);
    expect(lines[3]).toMatch(/^ {2}\+1000 ms\* {2}\(\+962 ms\) +Scheduled +scheduler/);
    expect(lines[4]).toMatch(/^ {3}\+600 ms {3}\(-400 ms\) +container started/);
  });

  it('explains the server-time mark once, then lists the missing hops', () => {
    expect(lines.slice(5)).toEqual([
      '  * server time, whole seconds: stored by the API server, not seen by a kubelab watch',
      '  missing: first request answered (never happened before the trace ended)',
    ]);
  });

  it('has no server-time footnote when every hop was seen by a watch', () => {
    const text = formatTrace({ ...trace, hops: trace.hops.filter((h) => h.source === 'watch'), missing: [] });
    expect(text).not.toContain('*');
  });

  it('keeps lines under 120 characters however long the detail', () => {
    const long = formatTrace({ ...trace, hops: [hop('Scheduled', 'scheduler', 1_001_000, 'server', `pod ${'x'.repeat(300)}`)] });
    for (const line of long.split('\n')) expect(line.length).toBeLessThan(120);
    expect(long).toContain('…');
  });

  it('says so when no hop was recorded', () => {
    expect(formatTrace({ subject: 'deployment a/b', startedAt: 0, hops: [], missing: ['stored'] })).toBe(
      'trace of deployment a/b: no hop recorded\n  missing: stored (never happened before the trace ended)',
    );
  });
});
