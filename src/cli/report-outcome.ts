import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode } from '../errors.js';
import { lessonPassed, type LessonOutcome } from '../lab/outcome.js';
import { renderHtmlReport } from '../report/html.js';
import { toJunit } from '../report/junit.js';
import { formatSuiteCount, formatSummary, toJson } from '../report/summary.js';
import { formatTimelineSummary, formatTrace } from '../report/timeline-text.js';
import type { ReportFlags } from './options.js';

/** Writes a run's or a verify's outcome where the flags ask, and returns the exit code it means. */
export function reportOutcome(outcome: LessonOutcome, flags: ReportFlags): Promise<number> {
  return reportOutcomes([outcome], flags);
}

const exitCodeOf = (outcome: LessonOutcome) =>
  outcome.cleanupFailures.length > 0 ? ExitCode.cleanupFailed : lessonPassed(outcome) ? ExitCode.ok : ExitCode.assertionFailed;

/** The exit code of one or several lessons: the worst lesson's (a leftover, 4, over a failed assertion, 1, over 0). */
export const exitCodeFor = (outcomes: LessonOutcome[]): number => Math.max(...outcomes.map(exitCodeOf));

/**
 * A suite's outcomes, one per lesson: one JUnit file with a testsuite each, an HTML report each, the
 * summaries and, for several, a closing count. The exit code is the worst lesson's (4 over 1 over 0).
 */
export async function reportOutcomes(outcomes: LessonOutcome[], flags: ReportFlags): Promise<number> {
  if (flags.junit) await writeFile(flags.junit, toJunit(outcomes));
  if (flags.report) {
    await mkdir(flags.report, { recursive: true });
    for (const outcome of outcomes) {
      const file = join(flags.report, `${outcome.lesson}.html`);
      await writeFile(file, renderHtmlReport({ outcome, timeline: outcome.timeline, trace: outcome.trace }));
      process.stderr.write(`report: ${file}\n`);
    }
  }
  if (flags.json) {
    const documents = outcomes.map(toJson);
    process.stdout.write((documents.length === 1 ? documents[0] : `[\n${documents.join(',\n')}\n]`) + '\n');
  } else {
    const sections = outcomes.flatMap((outcome) => [
      formatSummary(outcome),
      ...(outcome.timeline ? [formatTimelineSummary(outcome.timeline)] : []),
      ...(outcome.trace ? [formatTrace(outcome.trace)] : []),
    ]);
    if (outcomes.length > 1) sections.push(formatSuiteCount(outcomes));
    process.stdout.write(sections.join('\n\n') + '\n');
  }
  return exitCodeFor(outcomes);
}
