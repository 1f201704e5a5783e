import { describe, expect, it } from '@jest/globals';
import { niceTicks } from '../../src/report/chart.js';
import { renderHtmlReport } from '../../src/report/html.js';
import type { Timeline } from '../../src/observe/timeline.js';
import type { LessonOutcome } from '../../src/lab/outcome.js';
import type { Trace } from '../../src/trace/types.js';

const hostilePod = 'myapp-1<script>alert(1)</script>';

const outcome: LessonOutcome = {
  lesson: 'lesson-hpa',
  cluster: 'hpa-lab',
  durationMs: 312_400,
  cleanupFailures: [],
  results: [
    { name: 'Deployment myapp is available', pass: true, expected: 'Available=True', observed: 'Available=True, 1/1', durationMs: 210 },
    {
      name: 'HPA myapp scales back to 1',
      pass: false,
      expected: 'desired replicas = 1',
      observed: `pod ${hostilePod} still running`,
      durationMs: 60_000,
      diagnostic: 'events in hpa-test:\n  Warning <BackOff> Pod/myapp-1 & co',
    },
  ],
};

const timeline: Timeline = {
  startedAt: Date.parse('2025-06-01T14:03:12Z'),
  charts: [
    { key: 'load', title: 'Load through the Ingress' },
    { key: 'cpu', title: 'CPU per pod' },
    { key: 'replicas', title: 'Replicas' },
  ],
  series: [
    { chart: 'load', label: 'requests', unit: 'req/s', points: [{ t: 0, v: 15 }, { t: 5000, v: 18.5 }, { t: 10_000, v: 17 }, { t: 15_000, v: 0 }] },
    { chart: 'load', label: 'p99', unit: 'ms', points: [{ t: 0, v: 320 }, { t: 5000, v: 480 }, { t: 10_000, v: 410 }] },
    { chart: 'cpu', label: hostilePod, unit: 'millicores', points: [{ t: 0, v: 120 }, { t: 15_000, v: 812 }] },
    { chart: 'replicas', label: 'desired', unit: 'replicas', points: [{ t: 0, v: 1 }, { t: 4000, v: 4 }, { t: 14_000, v: 1 }] },
  ],
  events: [
    { t: 1000, source: 'kubelab', reason: 'LoadStarted', message: 'load started' },
    { t: 4000, source: 'horizontal-pod-autoscaler', reason: 'SuccessfulRescale', message: 'New size: 4; reason: cpu above target', object: 'HorizontalPodAutoscaler/myapp' },
    { t: 6000, source: 'kubelet', reason: 'Unhealthy', message: `probe failed: <script>alert("x")</script> see <a href="https://evil.example/">`, object: `Pod/${hostilePod}` },
  ],
  notes: ['stabilization window shortened to 30 s'],
};

const trace: Trace = {
  subject: 'deployment hpa-test/myapp',
  startedAt: 1_000_000,
  hops: [
    { step: 'stored', component: 'kube-apiserver', at: 1_000_000, detail: 'deployment hpa-test/myapp', source: 'server' },
    { step: 'Scheduled', component: 'scheduler', at: 1_001_000, detail: `pod ${hostilePod} to agent-0`, source: 'server' },
    { step: 'Ready', component: 'kubelet', at: 1_003_412, detail: '<img src=x onerror=alert(2)>', source: 'watch' },
  ],
  missing: ['first request answered'],
};

const html = renderHtmlReport({ outcome, timeline, trace });

function countOf(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

/** Each polyline's point count, by the series label in its <title>. */
function polylinePointCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const match of text.matchAll(/<polyline [^>]*points="([^"]*)"><title>([^<]*)<\/title>/g)) {
    counts.set(match[2]!, match[1]!.split(' ').length);
  }
  return counts;
}

describe('HTML report: safety', () => {
  it('escapes cluster text everywhere: no markup from names, messages or details survives', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<a /i);
    expect(html).toContain('myapp-1&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('Warning &lt;BackOff&gt; Pod/myapp-1 &amp; co');
  });

  it('references nothing outside the file, so it opens offline', () => {
    expect(html).not.toMatch(/\b(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
    expect(html).not.toMatch(/url\(|@import|<link|<iframe|<object/i);
  });
});

describe('HTML report: content', () => {
  it('titles the run with lesson, cluster, date, counts and duration', () => {
    expect(html).toContain('<title>lesson-hpa on hpa-lab</title>');
    expect(html).toContain('2025-06-01 14:03:12 UTC');
    expect(html).toContain('1 passed, 1 failed');
    expect(html).toContain('took 5 min 12 s');
    expect(html).toContain('FAILED');
  });

  it('has one row per assertion, the diagnostic folded in a <details>', () => {
    expect(countOf(html, /<tr><td><span class="pill (?:pass|fail)">/g)).toBe(2);
    expect(html).toMatch(/<details><summary>diagnostic<\/summary><pre>events in hpa-test:/);
  });

  it('shows the notes', () => {
    expect(html).toContain('<li>stabilization window shortened to 30 s</li>');
  });

  it('draws one SVG per chart, in the declared order; two units share it with a right axis', () => {
    expect(countOf(html, /<svg class="chart"/g)).toBe(3);
    const captions = [...html.matchAll(/<figcaption>([^<]*)<\/figcaption>/g)].map((m) => m[1]);
    expect(captions).toEqual(['Load through the Ingress', 'CPU per pod', 'Replicas']);
    expect(html).toContain('(right axis)');
  });

  it('draws one polyline per series with a point per sample, and counts as a staircase', () => {
    const counts = polylinePointCounts(html);
    expect(counts.get('requests')).toBe(4);
    expect(counts.get('p99')).toBe(3);
    expect(counts.get('myapp-1&lt;script&gt;alert(1)&lt;/script&gt;')).toBe(2);
    // 3 replica samples: each value holds until the next, so 2 extra corners.
    expect(counts.get('desired')).toBe(5);
  });

  it('marks rescales and kubelab actions with a labelled dashed line on every chart, and nothing else', () => {
    expect(countOf(html, /stroke-dasharray="4 3"/g)).toBe(2 * 3);
    expect(countOf(html, />scaled to 4<\/text>/g)).toBe(3);
    expect(countOf(html, />load started<\/text>/g)).toBe(3);
    expect(html).not.toContain('>Unhealthy</text>');
  });

  it('lists every event in the events table', () => {
    const events = html.slice(html.indexOf('<table class="events">'), html.indexOf('</table>', html.indexOf('<table class="events">')));
    expect(countOf(events, /<tr[ >]/g)).toBe(1 + timeline.events.length);
    expect(events).toContain('<td class="num">6.0 s</td><td>kubelet</td><td>Unhealthy</td>');
  });

  it('shows the trace as a table and one bar per hop, times from the start, and the missing hops', () => {
    expect(countOf(html, /<rect /g)).toBe(3);
    expect(html).toContain('<td>Scheduled</td><td>scheduler</td><td class="num">+1000 ms</td><td class="num">+1000 ms</td>');
    expect(html).toContain('<td>Ready</td><td>kubelet</td><td class="num">+3412 ms</td><td class="num">+2412 ms</td>');
    expect(html).toContain('<b>first request answered</b>');
  });
});

describe('HTML report: edge cases', () => {
  it('without timeline or trace: assertions only, no chart', () => {
    const bare = renderHtmlReport({ outcome, title: 'custom <title>' });
    expect(bare).toContain('<title>custom &lt;title&gt;</title>');
    expect(bare).not.toContain('<svg');
    expect(bare).not.toContain('Timeline');
    expect(bare).not.toContain('Trace of');
    expect(countOf(bare, /<tr><td><span class="pill/g)).toBe(2);
  });

  it('a single sample, an all-zero series and no events still make a finite chart', () => {
    const sparse: Timeline = {
      startedAt: 0,
      charts: [{ key: 'load', title: 'Load' }, { key: 'idle', title: 'Idle' }, { key: 'declared', title: 'Declared, never sampled' }],
      series: [
        { chart: 'load', label: 'requests', unit: 'req/s', points: [{ t: 0, v: 12 }] },
        { chart: 'idle', label: 'errors', unit: 'req/s', points: [{ t: 0, v: 0 }, { t: 1000, v: 0 }] },
      ],
      events: [],
      notes: [],
    };
    const out = renderHtmlReport({ outcome, timeline: sparse });
    expect(out).not.toMatch(/NaN|Infinity/);
    expect(countOf(out, /<svg class="chart"/g)).toBe(2);
    expect(countOf(out, /<circle /g)).toBe(1);
    expect(polylinePointCounts(out).get('errors')).toBe(2);
    expect(out).toContain('No samples.');
    expect(out).toContain('No events were recorded.');
  });

  it('a long run (more samples than a call takes arguments) still renders', () => {
    const points = Array.from({ length: 200_000 }, (_, i) => ({ t: i * 100, v: i % 7 }));
    const long: Timeline = { startedAt: 0, charts: [], series: [{ chart: 'load', label: 'requests', unit: 'req/s', points }], events: [], notes: [] };
    expect(polylinePointCounts(renderHtmlReport({ outcome, timeline: long })).get('requests')).toBe(200_000);
  });

  it('a trace with no hop says so and still lists what is missing', () => {
    const out = renderHtmlReport({ outcome, trace: { subject: 'deployment a/b', startedAt: 5, hops: [], missing: ['stored'] } });
    expect(out).toContain('No hop was recorded.');
    expect(out).toContain('<b>stored</b>');
    expect(out).not.toContain('<svg');
  });
});

describe('nice ticks', () => {
  it('covers the range with steps of 1, 2 or 5 times a power of ten', () => {
    expect(niceTicks(0, 812, 5)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(niceTicks(0, 19.9, 5)).toEqual([0, 5, 10, 15, 20]);
    expect(niceTicks(0, 250, 15)).toEqual([0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 220, 240, 260]);
  });

  it('leaves no float residue', () => {
    expect(niceTicks(0, 0.3, 3)).toEqual([0, 0.1, 0.2, 0.3]);
  });

  it('gives a flat series an axis with height, in whole numbers for counts', () => {
    expect(niceTicks(0, 0, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    const counts = niceTicks(0, 1, 5, true);
    expect(counts.every(Number.isInteger)).toBe(true);
    expect(counts.at(-1)).toBeGreaterThanOrEqual(1);
  });
});
