import type { LessonOutcome } from '../lab/outcome.js';

const escapeXml = (text: string) =>
  text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
    // XML 1.0 forbids most control characters; kubectl-style output sometimes carries them.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/** JUnit XML: one testsuite per lesson, one testcase per assertion, evidence in failure messages. */
export function toJunit(outcomes: LessonOutcome[]): string {
  const suites = outcomes.map((outcome) => {
    const failures = outcome.results.filter((r) => !r.pass).length;
    const skipped = outcome.results.filter((r) => r.skipped).length;
    const cases = outcome.results.map((r) => {
      const open = `    <testcase classname="kubelab.${escapeXml(outcome.lesson)}" name="${escapeXml(r.name)}" time="${(r.durationMs / 1000).toFixed(3)}"`;
      if (r.skipped) return `${open}>\n      <skipped message="${escapeXml(r.observed)}"/>\n    </testcase>`;
      if (r.pass) return `${open}>\n      <system-out>${escapeXml(`observed: ${r.observed}`)}</system-out>\n    </testcase>`;
      const message = `expected ${r.expected}; observed ${r.observed}`;
      return `${open}>\n      <failure message="${escapeXml(message)}">${escapeXml([message, r.diagnostic ?? ''].join('\n\n').trim())}</failure>\n    </testcase>`;
    });
    return [
      `  <testsuite name="${escapeXml(outcome.lesson)}" tests="${outcome.results.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${(outcome.durationMs / 1000).toFixed(3)}">`,
      ...cases,
      '  </testsuite>',
    ].join('\n');
  });
  const tests = outcomes.reduce((n, o) => n + o.results.length, 0);
  const failures = outcomes.reduce((n, o) => n + o.results.filter((r) => !r.pass).length, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="kubelab" tests="${tests}" failures="${failures}">\n${suites.join('\n')}\n</testsuites>\n`;
}
