import { describe, expect, test } from '@jest/globals';
import { toJunit } from '../../src/report/junit.js';
import { formatSummary, toJson } from '../../src/report/summary.js';
import type { LessonOutcome } from '../../src/lab/outcome.js';

const outcome: LessonOutcome = {
  lesson: 'lesson-1',
  cluster: 'yadoc-exposed',
  access: { kubeconfig: '/state/kubeconfigs/yadoc-exposed.yaml', context: 'k3d-yadoc-exposed' },
  durationMs: 61_500,
  cleanupFailures: [],
  results: [
    { name: '4 nodes Ready (1 control-plane, 3 agents)', pass: true, expected: '1 control-plane and 3 agent nodes, all Ready', observed: '4 nodes, Ready: 1 control-plane, 3 agents', durationMs: 120 },
    {
      name: 'GET http://127.0.0.1:8081/ (Host: myapp.local) answers 200 with "I am watching you, Marius N"',
      pass: false,
      expected: 'HTTP 200, body exactly "I am watching you, Marius N"',
      observed: 'HTTP 404, body "404 page not found"',
      durationMs: 30_000,
      diagnostic: 'events in default (last 1):\n  12:00:00 Warning <BackOff> Pod/myapp-1 & co',
    },
  ],
};

describe('JUnit report', () => {
  const xml = toJunit([outcome]);
  test('one testcase per assertion, counts on the suite', () => {
    expect(xml.match(/<testcase /g)).toHaveLength(2);
    expect(xml).toContain('<testsuite name="lesson-1" tests="2" failures="1" errors="0" skipped="0" time="61.500">');
  });
  test('an assertion that holds only on another provider is a skipped testcase, counted, with why', () => {
    const skipped: LessonOutcome = {
      ...outcome,
      results: [{ name: 'datastore is kine + SQLite', pass: true, skipped: true, expected: 'kine-sqlite', observed: 'skipped on kind: k3s only', durationMs: 0 }],
    };
    const junit = toJunit([skipped]);
    expect(junit).toContain('tests="1" failures="0" errors="0" skipped="1"');
    expect(junit).toContain('<skipped message="skipped on kind: k3s only"/>');
    expect(formatSummary(skipped)).toMatch(/ {2}SKIP {2}datastore is kine \+ SQLite\n {8}observed: skipped on kind: k3s only\n0 passed, 0 failed, 1 skipped/);
  });
  test('failures carry expected, observed and the diagnostic, escaped', () => {
    expect(xml).toContain('<failure message="expected HTTP 200, body exactly &quot;I am watching you, Marius N&quot;; observed HTTP 404, body &quot;404 page not found&quot;">');
    expect(xml).toContain('Warning &lt;BackOff&gt; Pod/myapp-1 &amp; co');
  });
});

describe('terminal and JSON reports', () => {
  test('the summary ends with the pass/fail count', () => {
    const text = formatSummary(outcome);
    expect(text).toMatch(/FAIL {2}GET http:\/\/127\.0\.0\.1:8081\//);
    expect(text.trimEnd().split('\n').pop()).toBe('1 passed, 1 failed (61.5s)');
  });
  test('faults during the run are listed in the summary, in time order, and only faults', () => {
    const timeline = {
      startedAt: 0, charts: [], series: [], notes: [],
      events: [
        { t: 95_000, source: 'kubelab', reason: 'NodeReady', object: 'node/agent-1', message: 'Ready again (was Unknown)', fault: true as const },
        { t: 12_000, source: 'deployment-controller', reason: 'ScalingReplicaSet', object: 'deployment/myapp', message: 'Scaled up' },
        { t: 73_200, source: 'kubelab', reason: 'NodeNotReady', object: 'node/agent-1', message: 'Ready=Unknown (NodeStatusUnknown: Kubelet stopped posting node status.)', fault: true as const },
      ],
    };
    expect(formatSummary({ ...outcome, timeline })).toContain(
      '  faults during the run:\n' +
        '    +73.2 s node/agent-1 NodeNotReady: Ready=Unknown (NodeStatusUnknown: Kubelet stopped posting node status.)\n' +
        '    +95.0 s node/agent-1 NodeReady: Ready again (was Unknown)\n1 passed',
    );
    expect(formatSummary(outcome)).not.toContain('faults');
  });
  test('JSON says whether everything passed and where the kubeconfig is', () => {
    const json = JSON.parse(toJson(outcome)) as { passed: boolean; kubeconfig: string; results: unknown[] };
    expect(json.passed).toBe(false);
    expect(json.kubeconfig).toBe('/state/kubeconfigs/yadoc-exposed.yaml');
    expect(json.results).toHaveLength(2);
  });
});
