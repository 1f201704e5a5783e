/**
 * The HTML report of a lesson run: assertions, notes, one chart per timeline chart, events and the
 * trace, in one self-contained file (inline CSS and SVG, no script, nothing fetched) that opens
 * offline. Every piece of text is escaped: names and messages come from the cluster.
 */
import type { LessonOutcome } from '../lab/outcome.js';
import type { AssertionResult } from '../lab/types.js';
import type { Trace } from '../trace/types.js';
import {
  chartsOf,
  escapeHtml,
  extent,
  formatValue,
  isMarkerEvent,
  markerLabel,
  PALETTE,
  renderLineChart,
  renderWaterfall,
  timelineEndMs,
  type ChartMarker,
  type ChartSeries,
  type TimelineChart,
} from './chart.js';
import { faultLines, type Timeline, type TimelineEvent } from '../observe/timeline.js';
import { hopTimings } from './timeline-text.js';

export interface HtmlReportInput {
  outcome: LessonOutcome;
  timeline?: Timeline;
  trace?: Trace;
  /** Defaults to "<lesson> on <cluster>". */
  title?: string;
}

const RESCALE_COLOR = '#7c3aed';
const KUBELAB_COLOR = '#374151';
const SOURCE_COLORS = { watch: '#4e79a7', server: '#f28e2b' } as const;

export function renderHtmlReport(input: HtmlReportInput): string {
  const { outcome, timeline, trace } = input;
  const title = input.title ?? `${outcome.lesson} on ${outcome.cluster}`;
  const sections = [
    header(title, outcome, timeline?.startedAt ?? trace?.startedAt),
    timeline?.notes.length ? notesSection(timeline.notes) : '',
    faultLines(timeline).length ? faultsSection(faultLines(timeline)) : '',
    assertionsSection(outcome.results),
    leftoversSection(outcome),
    timeline ? chartsSection(timeline) : '',
    timeline ? eventsSection(timeline.events) : '',
    trace ? traceSection(trace) : '',
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${sections.filter(Boolean).join('\n')}
</main>
</body>
</html>
`;
}

function header(title: string, outcome: LessonOutcome, startedAt: number | undefined): string {
  const passed = outcome.results.filter((r) => r.pass).length;
  const failed = outcome.results.length - passed;
  const facts = [
    `lesson <b>${escapeHtml(outcome.lesson)}</b>`,
    `cluster <b>${escapeHtml(outcome.cluster)}</b>`,
    startedAt === undefined ? '' : escapeHtml(formatDate(startedAt)),
    `${passed} passed, ${failed} failed`,
    `took ${formatDuration(outcome.durationMs)}`,
  ];
  return `<header>
<h1>${escapeHtml(title)} <span class="pill ${failed ? 'fail' : 'pass'}">${failed ? 'FAILED' : 'PASSED'}</span></h1>
<p class="facts">${facts.filter(Boolean).join(' · ')}</p>
</header>`;
}

function faultsSection(faults: string[]): string {
  return `<aside class="notes faults"><h2>Faults during the run</h2><ul>${faults.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul></aside>`;
}

function notesSection(notes: string[]): string {
  return `<aside class="notes"><h2>Read the charts knowing</h2><ul>${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></aside>`;
}

function assertionsSection(results: AssertionResult[]): string {
  if (!results.length) return section('Assertions', '<p class="empty">No assertion ran.</p>');
  const rows = results.map((r) => {
    const verdict = r.skipped ? 'skip' : r.pass ? 'pass' : 'fail';
    const row = `<tr><td><span class="pill ${verdict}">${verdict.toUpperCase()}</span></td>` +
      `<td>${escapeHtml(r.name)}</td><td>${escapeHtml(r.expected)}</td><td>${escapeHtml(r.observed)}</td>` +
      `<td class="num">${formatDuration(r.durationMs)}</td></tr>`;
    const diagnostic = r.diagnostic
      ? `<tr class="diagnostic"><td></td><td colspan="4"><details><summary>diagnostic</summary><pre>${escapeHtml(r.diagnostic)}</pre></details></td></tr>`
      : '';
    return row + diagnostic;
  });
  return section('Assertions', table(['', 'assertion', 'expected', 'observed', 'took'], rows, 'assertions'));
}

/** What the run could not clean up, and where node logs went: the terminal summary says it too. */
function leftoversSection(outcome: LessonOutcome): string {
  const items = [
    ...(outcome.nodeLogsDir ? [`node logs: <code>${escapeHtml(outcome.nodeLogsDir)}</code>`] : []),
    ...outcome.cleanupFailures.map((f) => `cleanup failed: ${escapeHtml(f)}`),
  ];
  return items.length ? section('After the run', `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>`) : '';
}

function chartsSection(timeline: Timeline): string {
  const charts = chartsOf(timeline);
  if (!charts.length) return section('Timeline', '<p class="empty">Nothing was sampled.</p>');
  const endMs = timelineEndMs(timeline);
  const markers = timeline.events.filter(isMarkerEvent).map(toMarker);
  return section('Timeline', charts.map((chart) => chartFigure(chart, markers, endMs)).join('\n'));
}

function toMarker(event: TimelineEvent): ChartMarker {
  return { t: event.t, label: markerLabel(event), color: event.reason === 'SuccessfulRescale' ? RESCALE_COLOR : KUBELAB_COLOR };
}

function chartFigure(chart: TimelineChart, markers: ChartMarker[], endMs: number): string {
  const heading = `<figcaption>${escapeHtml(chart.title)}</figcaption>`;
  if (!chart.series.length) return `<figure>${heading}<p class="empty">No samples.</p></figure>`;
  const series = chart.series.map((s, i) => ({ ...s, color: PALETTE[i % PALETTE.length]! }));
  const units = [...new Set(series.map((s) => s.unit))];
  // One SVG has a left and a right axis; a chart with more units gets another SVG per pair.
  const svgs = pairs(units).map((pair) => {
    const drawn = series.filter((s) => pair.includes(s.unit));
    return legend(drawn, pair) + renderLineChart({ series: drawn, markers, endMs, title: `${chart.title} (${pair.join(', ')})` });
  });
  return `<figure>${heading}\n${svgs.join('\n')}</figure>`;
}

function pairs<T>(items: T[]): T[][] {
  return items.flatMap((_, i) => (i % 2 === 0 ? [items.slice(i, i + 2)] : []));
}

function legend(series: ChartSeries[], units: string[]): string {
  const entries = series.map((s) => {
    const values = s.points.map((p) => p.v);
    const range = values.length
      ? `max ${formatValue(extent(values).max)}, last ${formatValue(values[values.length - 1]!)} ${escapeHtml(s.unit)}`
      : 'no samples';
    const side = units.length === 2 ? ` <span class="muted">(${s.unit === units[0] ? 'left' : 'right'} axis)</span>` : '';
    return `<li><span class="swatch" style="background:${s.color}"></span>${escapeHtml(s.label)}${side} <span class="muted">${range}</span></li>`;
  });
  return `<ul class="legend">${entries.join('')}</ul>`;
}

function eventsSection(events: TimelineEvent[]): string {
  if (!events.length) return section('Events', '<p class="empty">No events were recorded.</p>');
  const rows = events.map((e) =>
    `<tr${isMarkerEvent(e) ? ' class="marked"' : ''}><td class="num">${(e.t / 1000).toFixed(1)} s</td><td>${escapeHtml(e.source)}</td>` +
    `<td>${escapeHtml(e.reason)}</td><td>${escapeHtml(e.object ?? '')}</td><td>${escapeHtml(e.message)}</td></tr>`);
  return section('Events', table(['t', 'source', 'reason', 'object', 'message'], rows, 'events'));
}

function traceSection(trace: Trace): string {
  const timings = hopTimings(trace);
  const missing = trace.missing.length
    ? `<p class="missing">Never happened before the trace ended: ${trace.missing.map((m) => `<b>${escapeHtml(m)}</b>`).join(', ')}</p>`
    : '';
  if (!timings.length) return section(`Trace of ${escapeHtml(trace.subject)}`, `<p class="empty">No hop was recorded.</p>${missing}`);
  const rows = timings.map(({ hop, offsetMs, deltaMs }) =>
    `<tr><td>${escapeHtml(hop.step)}</td><td>${escapeHtml(hop.component)}</td><td class="num">+${offsetMs} ms</td>` +
    `<td class="num">${deltaMs >= 0 ? '+' : ''}${deltaMs} ms</td><td><span class="source ${escapeHtml(hop.source)}">${escapeHtml(hop.source)}</span></td><td>${escapeHtml(hop.detail)}</td></tr>`);
  const bars = renderWaterfall(
    timings.map(({ hop, offsetMs, deltaMs }) => ({
      label: `${hop.step} (${hop.component})`,
      from: offsetMs - deltaMs,
      to: offsetMs,
      color: SOURCE_COLORS[hop.source],
      note: `+${offsetMs} ms`,
    })),
    `hops of ${trace.subject}`,
  );
  const key = `<ul class="legend"><li><span class="swatch" style="background:${SOURCE_COLORS.watch}"></span>seen by a kubelab watch (ms clock)</li>` +
    `<li><span class="swatch" style="background:${SOURCE_COLORS.server}"></span>stored by the API server (whole seconds)</li></ul>`;
  const body = key + bars + table(['hop', 'component', 'since start', 'since previous', 'source', 'detail'], rows, 'trace') + missing;
  return section(`Trace of ${escapeHtml(trace.subject)}`, body);
}

/** `heading` is HTML: callers escape what they put in it. */
function section(heading: string, body: string): string {
  return `<section>\n<h2>${heading}</h2>\n${body}\n</section>`;
}

function table(columns: string[], rows: string[], className: string): string {
  return `<table class="${className}"><thead><tr>${columns.map((c) => `<th>${c}</th>`).join('')}</tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

function formatDate(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

const STYLE = `
:root { color-scheme: light; }
body { margin: 0; background: #f8fafc; color: #111827;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1160px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; display: flex; align-items: center; gap: 12px; }
h2 { font-size: 17px; margin: 0 0 12px; }
header .facts { margin: 0; color: #4b5563; }
section, aside.notes { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 16px 20px; margin-top: 20px; }
aside.notes { background: #fffbeb; border-color: #fcd34d; }
aside.faults { background: #fef2f2; border-color: #fca5a5; }
aside.notes h2 { font-size: 14px; margin-bottom: 4px; }
aside.notes ul { margin: 0; padding-left: 20px; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th { text-align: left; font-weight: 600; color: #4b5563; border-bottom: 2px solid #e5e7eb; padding: 6px 8px; }
td { border-bottom: 1px solid #f1f5f9; padding: 6px 8px; vertical-align: top; overflow-wrap: break-word; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.diagnostic td { border-bottom-color: #e5e7eb; padding-top: 0; }
tr.marked td { background: #f5f3ff; }
pre { background: #f8fafc; border: 1px solid #e5e7eb; border-radius: 6px; padding: 8px 10px; margin: 6px 0 0;
  font: 12px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; white-space: pre-wrap; overflow-wrap: anywhere; }
details summary { cursor: pointer; color: #b91c1c; }
.pill { display: inline-block; white-space: nowrap; font-size: 11px; font-weight: 700; letter-spacing: .04em; padding: 2px 8px; border-radius: 999px; }
.pill.pass { background: #dcfce7; color: #15803d; }
.pill.skip { background: #f1f5f9; color: #475569; }
.pill.fail { background: #fee2e2; color: #b91c1c; }
figure { margin: 0 0 24px; }
figure:last-child { margin-bottom: 0; }
figcaption { font-weight: 600; margin-bottom: 4px; }
ul.legend { list-style: none; margin: 0 0 4px; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 12.5px; }
.swatch { display: inline-block; width: 14px; height: 4px; border-radius: 2px; margin-right: 6px; vertical-align: middle; }
.muted { color: #6b7280; }
.empty { color: #6b7280; font-style: italic; margin: 0; }
.missing { color: #b91c1c; }
.source { font-size: 11px; padding: 1px 6px; border-radius: 4px; color: #fff; }
.source.watch { background: ${SOURCE_COLORS.watch}; }
.source.server { background: ${SOURCE_COLORS.server}; }
code { font: 12px ui-monospace, Menlo, Consolas, monospace; }
svg { display: block; }
`;
