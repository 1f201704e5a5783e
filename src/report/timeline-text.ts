/**
 * The timeline and the trace for the terminal: a few lines under the assertions, each under 120
 * characters, that say what happened and when without opening the HTML report.
 */
import type { Trace, TraceHop } from '../trace/types.js';
import { chartsOf, extent, formatValue, isCountUnit, isMarkerEvent, shorten } from './chart.js';
import type { Series, Timeline, TimelineEvent } from '../observe/timeline.js';

/** Lines stay under 120 characters, the width of a wide terminal. */
const MAX_LINE = 119;
const SERVER_MARK = 'server time, whole seconds: stored by the API server, not seen by a kubelab watch';

/**
 * Notes first (they change how the rest reads), then one line per series (min, max and last; for
 * counts such as replicas, every change with its time), then the autoscaler's and kubelab's events.
 */
export function formatTimelineSummary(timeline: Timeline): string {
  const lines = timeline.notes.map((note) => `note: ${note}`);
  for (const chart of chartsOf(timeline)) {
    for (const series of chart.series) lines.push(...seriesLines(`${chart.key} ${series.label}: `, series));
  }
  lines.push(...markerEventLines(timeline.events.filter(isMarkerEvent)));
  return lines.join('\n');
}

function seriesLines(prefix: string, series: Series): string[] {
  if (!series.points.length) return [`${prefix}no samples`];
  if (isCountUnit(series.unit)) return wrapChain(prefix, changes(series));
  const { min, max } = extent(series.points.map((p) => p.v));
  const last = series.points[series.points.length - 1]!.v;
  return [shorten(`${prefix}min ${formatValue(min)}, max ${formatValue(max)}, last ${formatValue(last)} ${series.unit}`, MAX_LINE)];
}

/** The first value, then each value that differs from the one before, with when it appeared. */
function changes(series: Series): string[] {
  const [first, ...rest] = series.points;
  const steps = [formatValue(first!.v)];
  let current = first!.v;
  for (const point of rest) {
    if (point.v === current) continue;
    current = point.v;
    steps.push(`${formatValue(point.v)} at ${seconds(point.t)} s`);
  }
  return steps;
}

/** `prefix` then the steps joined by arrows, continuing on indented lines rather than running past MAX_LINE. */
function wrapChain(prefix: string, steps: string[]): string[] {
  const lines = [prefix + steps[0]!];
  for (const step of steps.slice(1)) {
    const last = lines[lines.length - 1]!;
    if (last.length + step.length + 3 <= MAX_LINE) lines[lines.length - 1] = `${last} → ${step}`;
    else lines.push(`    → ${step}`);
  }
  return lines;
}

function markerEventLines(events: TimelineEvent[]): string[] {
  const width = Math.max(0, ...events.map((e) => String(seconds(e.t)).length));
  return events.map((e) => {
    const fields = [`at ${String(seconds(e.t)).padStart(width)} s`, e.reason, e.object, e.message].filter(Boolean);
    return shorten(fields.join('  '), MAX_LINE);
  });
}

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}

export interface HopTiming {
  hop: TraceHop;
  /** ms since the trace start (the apply). */
  offsetMs: number;
  /** ms since the hop before; for the first hop, since the trace start. */
  deltaMs: number;
}

/** Hops in the order they were recorded, which is causal order: server times may even step backwards. */
export function hopTimings(trace: Trace): HopTiming[] {
  return trace.hops.map((hop, i) => {
    const previous = i === 0 ? trace.startedAt : trace.hops[i - 1]!.at;
    return { hop, offsetMs: Math.round(hop.at - trace.startedAt), deltaMs: Math.round(hop.at - previous) };
  });
}

/**
 * One line per hop: time since the start, time since the previous hop, step, component, detail.
 * Hops timed by the API server get a star and a footnote: its clock has whole seconds only. Then
 * the hops that never happened.
 */
export function formatTrace(trace: Trace): string {
  const timings = hopTimings(trace);
  const lastOffset = Math.max(0, ...timings.map((t) => t.offsetMs));
  const lines = [timings.length ? `trace of ${trace.subject}: ${timings.length} hops in ${lastOffset} ms` : `trace of ${trace.subject}: no hop recorded`];
  const offsets = timings.map((t) => `+${t.offsetMs} ms${t.hop.source === 'server' ? '*' : ' '}`);
  const deltas = timings.map((t, i) => (i === 0 ? '' : `(${t.deltaMs >= 0 ? '+' : ''}${t.deltaMs} ms)`));
  const columns = {
    offset: widest(offsets),
    delta: widest(deltas),
    step: Math.min(26, widest(timings.map((t) => t.hop.step))),
    component: Math.min(24, widest(timings.map((t) => t.hop.component))),
  };
  timings.forEach(({ hop }, i) => {
    const head = [
      offsets[i]!.padStart(columns.offset),
      deltas[i]!.padEnd(columns.delta),
      shorten(hop.step, columns.step).padEnd(columns.step),
      shorten(hop.component, columns.component).padEnd(columns.component),
    ].join('  ');
    lines.push(shorten(`  ${head}  ${hop.detail}`, MAX_LINE));
  });
  if (timings.some((t) => t.hop.source === 'server')) lines.push(`  * ${SERVER_MARK}`);
  lines.push(...trace.missing.map((step) => `  missing: ${step} (never happened before the trace ended)`));
  return lines.join('\n');
}

function widest(texts: string[]): number {
  return Math.max(0, ...texts.map((t) => t.length));
}
