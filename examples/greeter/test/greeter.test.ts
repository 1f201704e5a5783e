/**
 * The greeter tested on a real k3d cluster through kubelab's library API: the lesson runs end to
 * end (cluster, image, apply, assertions, cleanup) and the test judges its outcome.
 */
import { expect, test } from '@jest/globals';
import { lessonPassed, runLesson } from 'kubelab';
import greeter from '../lesson.ts';

test('the greeter answers through its Ingress with two replicas on two nodes', async () => {
  const outcome = await runLesson(greeter, { timeoutSeconds: 180 });
  const failed = outcome.results.filter((r) => !r.pass).map((r) => `${r.name}: expected ${r.expected}; observed ${r.observed}`);
  expect(failed).toEqual([]);
  expect(outcome.results.map((r) => r.name)).toContain('pods app=greeter: 2+ Running and Ready on 2+ nodes');
  expect(outcome.cleanupFailures).toEqual([]);
  // What k3d and docker build printed is in a log file of its own, not in the test's output.
  expect(outcome.toolLog).toMatch(/\/logs\/run-[^/]+\.log$/);
  expect(lessonPassed(outcome)).toBe(true);
}, 15 * 60_000);
