import { lessonPassed, type LessonOutcome } from '../lab/outcome.js';
import { faultLines } from '../observe/timeline.js';

/** The closing lines of a run: each assertion with its evidence, then a count line. */
export function formatSummary(outcome: LessonOutcome): string {
  const lines = [`${outcome.lesson} on ${outcome.cluster}:`];
  for (const r of outcome.results) {
    lines.push(`  ${r.skipped ? 'SKIP' : r.pass ? 'PASS' : 'FAIL'}  ${r.name}`);
    lines.push(`        observed: ${r.observed}`);
    if (!r.pass) {
      lines.push(`        expected: ${r.expected}`);
      if (r.diagnostic) lines.push(...r.diagnostic.split('\n').map((l) => `        | ${l}`));
    }
  }
  const faults = faultLines(outcome.timeline);
  if (faults.length > 0) lines.push('  faults during the run:', ...faults.map((f) => `    ${f}`));
  if (outcome.nodeLogsDir) lines.push(`  node logs: ${outcome.nodeLogsDir}`);
  for (const failure of outcome.cleanupFailures) lines.push(`  cleanup failed: ${failure}`);
  const passed = outcome.results.filter((r) => r.pass && !r.skipped).length;
  const skipped = outcome.results.filter((r) => r.skipped).length;
  const failed = outcome.results.filter((r) => !r.pass).length;
  lines.push(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''} (${(outcome.durationMs / 1000).toFixed(1)}s)`);
  return lines.join('\n');
}

/** The closing line of a suite: lessons and assertions passed and failed, and the time of all of them. */
export function formatSuiteCount(outcomes: LessonOutcome[]): string {
  const lessonsPassed = outcomes.filter(lessonPassed).length;
  const results = outcomes.flatMap((o) => o.results);
  const passed = results.filter((r) => r.pass && !r.skipped).length;
  const failed = results.filter((r) => !r.pass).length;
  const seconds = outcomes.reduce((sum, o) => sum + o.durationMs, 0) / 1000;
  return `${outcomes.length} lessons: ${lessonsPassed} passed, ${outcomes.length - lessonsPassed} failed; ${passed} assertions passed, ${failed} failed (${seconds.toFixed(1)}s in the lessons)`;
}

/** The machine-readable report of `--json`. */
export function toJson(outcome: LessonOutcome): string {
  const { access, ...rest } = outcome;
  return JSON.stringify({ ...rest, kubeconfig: access?.kubeconfig, context: access?.context, passed: outcome.results.every((r) => r.pass) }, null, 2);
}
