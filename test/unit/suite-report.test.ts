/**
 * What a suite's reports say about several lessons: one JUnit file with a testsuite each, the count
 * line closing the summaries, and the exit code of the worst lesson.
 */
import { describe, expect, it } from '@jest/globals';
import { exitCodeFor } from '../../src/cli/report-outcome.js';
import { ExitCode } from '../../src/errors.js';
import type { LessonOutcome } from '../../src/lab/outcome.js';
import { toJunit } from '../../src/report/junit.js';
import { formatSuiteCount } from '../../src/report/summary.js';
import { InterruptedError } from '../../src/errors.js';
import { stoppedSuiteOutcomes } from '../../src/lab/suite.js';
import type { Lesson } from '../../src/lab/types.js';

const result = (name: string, pass: boolean) => ({ name, pass, expected: 'it holds', observed: pass ? 'it holds' : 'it does not', durationMs: 10 });
const lesson = (id: string, passes: boolean[], cleanupFailures: string[] = []): LessonOutcome => ({
  lesson: id,
  cluster: 'yadoc-exposed',
  results: passes.map((pass, i) => result(`claim ${i}`, pass)),
  cleanupFailures,
  durationMs: 60_000,
});

describe("a suite's reports", () => {
  it('JUnit: one testsuite per lesson, in order, and the totals over all of them', () => {
    const xml = toJunit([lesson('lesson-1', [true, true]), lesson('lesson-2', [true, false, true])]);
    expect([...xml.matchAll(/<testsuite name="([^"]+)" tests="(\d+)" failures="(\d+)"/g)].map((m) => m.slice(1))).toEqual([
      ['lesson-1', '2', '0'],
      ['lesson-2', '3', '1'],
    ]);
    expect(xml).toContain('<testsuites name="kubelab" tests="5" failures="1">');
  });

  it('the count line: lessons passed and failed, assertions passed and failed, the time in the lessons', () => {
    expect(formatSuiteCount([lesson('lesson-1', [true, true]), lesson('lesson-2', [true, false])])).toBe(
      '2 lessons: 1 passed, 1 failed; 3 assertions passed, 1 failed (120.0s in the lessons)',
    );
  });

  it('a lesson whose cleanup left something counts as failed even with every assertion passed', () => {
    expect(formatSuiteCount([lesson('lesson-1', [true], ['delete k3d cluster yadoc-exposed: busy'])])).toMatch(/^1 lessons: 0 passed, 1 failed/);
  });

  it.each([
    ['every lesson passed', [lesson('a', [true]), lesson('b', [true])], ExitCode.ok],
    ['one failed assertion, in the first lesson', [lesson('a', [false]), lesson('b', [true])], ExitCode.assertionFailed],
    ['a failed assertion and, in another lesson, a leftover', [lesson('a', [false]), lesson('b', [true], ['left: a cluster'])], ExitCode.cleanupFailed],
    ['a leftover first, a failed assertion after', [lesson('a', [true], ['left: a cluster']), lesson('b', [false])], ExitCode.cleanupFailed],
    ['a lesson with no assertion at all', [lesson('a', [true]), lesson('b', [])], ExitCode.assertionFailed],
  ])('exit code when %s: the worst lesson\'s', (_case, outcomes, code) => {
    expect(exitCodeFor(outcomes)).toBe(code);
  });
});

describe('a suite an error stopped half-way', () => {
  const defined = (id: string) => ({ id, cluster: { name: `cluster-of-${id}` } }) as Lesson;
  const lessons = ['lesson-1', 'lesson-2', 'lesson-3'].map(defined);
  const outcomes = stoppedSuiteOutcomes(lessons, [lesson('lesson-1', [true, true])], new InterruptedError('interrupted by SIGINT'));

  it('reports the lesson that finished as it did, the stopped one as failed with the error, the rest as not run', () => {
    expect(outcomes.map((o) => [o.lesson, o.results.map((r) => [r.pass, r.skipped ?? false, r.observed])])).toEqual([
      ['lesson-1', [[true, false, 'it holds'], [true, false, 'it holds']]],
      ['lesson-2', [[false, false, 'stopped: interrupted by SIGINT']]],
      ['lesson-3', [[true, true, 'not run: the suite stopped at lesson-2']]],
    ]);
  });

  it('JUnit: a testsuite for each lesson of the suite, the stopped one failed, the unstarted one skipped', () => {
    const xml = toJunit(outcomes);
    expect([...xml.matchAll(/<testsuite name="([^"]+)" tests="(\d+)" failures="(\d+)" errors="0" skipped="(\d+)"/g)].map((m) => m.slice(1))).toEqual([
      ['lesson-1', '2', '0', '0'],
      ['lesson-2', '1', '1', '0'],
      ['lesson-3', '1', '0', '1'],
    ]);
    expect(xml).toContain('<failure message="expected the lesson runs to its end; observed stopped: interrupted by SIGINT">');
  });
});
