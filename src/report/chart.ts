/**
 * Inline SVG line charts for the HTML report, and the timeline reading both reports share: which
 * series belong to which chart, which events become markers, which units count whole things.
 * Pure string building: the report must open offline, so no chart library and no script.
 */
import type { Series, SeriesPoint, Timeline, TimelineEvent } from '../observe/timeline.js';

/** Escapes text for HTML and SVG, element content and quoted attributes alike. */
export function escapeHtml(text: string): string {
  return text
    .replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!)
    // Cluster messages sometimes carry control characters; HTML forbids them.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
}

/** Distinct colors that stay apart for the color-blind (Tableau 10). */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#ff9da7', '#bab0ac'];

export interface TimelineChart {
  key: string;
  title: string;
  series: Series[];
}

/**
 * The charts in their declared order, each with its series. Series of an undeclared chart get a
 * chart titled by their key, after the declared ones, so nothing recorded goes unshown.
 */
export function chartsOf(timeline: Timeline): TimelineChart[] {
  const charts = timeline.charts.map((c) => ({ ...c, series: [] as Series[] }));
  for (const series of timeline.series) {
    let chart = charts.find((c) => c.key === series.chart);
    if (!chart) {
      chart = { key: series.chart, title: series.chart, series: [] };
      charts.push(chart);
    }
    chart.series.push(series);
  }
  return charts;
}

/** Units that count whole things: they change in steps, and a fractional tick would be nonsense. */
export function isCountUnit(unit: string): boolean {
  return unit === 'replicas' || unit === 'pods' || unit === 'nodes';
}

/** Events worth a line across every chart: the autoscaler acting, and kubelab's own actions. */
export function isMarkerEvent(event: TimelineEvent): boolean {
  return event.reason === 'SuccessfulRescale' || event.source === 'kubelab';
}

/** A few words for a marker: "scaled to 4", "load started". */
export function markerLabel(event: TimelineEvent): string {
  if (event.reason === 'SuccessfulRescale') {
    const size = /New size: (\d+)/.exec(event.message);
    return size ? `scaled to ${size[1]}` : 'rescaled';
  }
  return shorten(event.message || event.reason, 28);
}

export function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A value for people: whole numbers from 100 up, else three significant digits, no trailing zeros. */
export function formatValue(value: number): string {
  return String(Math.abs(value) >= 100 ? Math.round(value) : Number(value.toPrecision(3)));
}

/** The last moment anything in the timeline happened, in ms since its start. */
export function timelineEndMs(timeline: Timeline): number {
  const times = [...timeline.series.flatMap((s) => s.points.map((p) => p.t)), ...timeline.events.map((e) => e.t)];
  return Math.max(0, extent(times).max);
}

/** Smallest and largest value; a loop, since spreading a long run's samples into Math.min overflows the stack. */
export function extent(values: number[]): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/**
 * Round axis ticks covering [min, max]: steps of 1, 2 or 5 times a power of ten, about `target`
 * of them. The first and last tick are the axis bounds.
 */
export function niceTicks(min: number, max: number, target: number, integer = false): number[] {
  // A flat series still needs an axis with some height.
  const top = max > min ? max : min + (integer ? target : 1);
  let step = niceStep((top - min) / target);
  if (integer) step = Math.max(1, Math.round(step));
  const decimals = decimalsOf(step);
  const first = Math.floor(min / step);
  const last = Math.ceil(top / step);
  const ticks: number[] = [];
  // Multiplying (not adding) keeps float error from piling up; toFixed rounds off what remains.
  for (let i = first; i <= last; i += 1) ticks.push(Number((i * step).toFixed(decimals)));
  return ticks;
}

function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

export interface ChartSeries {
  label: string;
  unit: string;
  color: string;
  points: SeriesPoint[];
}

export interface ChartMarker {
  /** ms since the timeline start. */
  t: number;
  label: string;
  color: string;
}

export interface LineChartInput {
  /** Series in at most two units: the first unit gets the left axis, the second the right one. */
  series: ChartSeries[];
  markers: ChartMarker[];
  /** The x axis runs from 0 to here (ms); shared by every chart so markers line up. */
  endMs: number;
  /** Accessible name of the chart. */
  title: string;
}

const WIDTH = 1100;
const HEIGHT = 270;
const FONT = 'system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif';
const AXIS_COLOR = '#6b7280';
const GRID_COLOR = '#e5e7eb';
/** Rough width of one character of 11 px text, to keep marker labels from overlapping. */
const CHAR_WIDTH = 6.2;

interface Plot {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

interface Axis {
  unit: string;
  ticks: number[];
  y: (v: number) => number;
}

/** One SVG line chart: x in seconds since start, y per unit with round ticks, markers as dashed lines. */
export function renderLineChart(input: LineChartInput): string {
  const units = [...new Set(input.series.map((s) => s.unit))];
  if (units.length > 2) throw new Error(`a chart has at most two units (left and right axis), got ${units.join(', ')}`);
  const plot: Plot = { left: 68, right: WIDTH - (units.length === 2 ? 68 : 20), top: 40, bottom: HEIGHT - 42 };
  const endMs = input.endMs > 0 ? input.endMs : 1000;
  const x = (t: number) => plot.left + (t / endMs) * (plot.right - plot.left);
  const axes = units.map((unit) => valueAxis(unit, input.series.filter((s) => s.unit === unit), plot));
  const [leftAxis, rightAxis] = axes;
  const parts = [
    `<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img" aria-label="${escapeHtml(input.title)}" font-family="${FONT}" font-size="11">`,
    leftAxis ? gridAndLeftAxis(leftAxis, plot) : '',
    rightAxis ? rightAxisMarks(rightAxis, plot) : '',
    timeAxis(endMs, x, plot),
    markerLines(input.markers, x, plot),
    ...input.series.map((s) => seriesPath(s, x, axes.find((a) => a.unit === s.unit)!.y)),
    '</svg>',
  ];
  return parts.filter(Boolean).join('\n');
}

function valueAxis(unit: string, series: ChartSeries[], plot: Plot): Axis {
  const { min, max } = extent(series.flatMap((s) => s.points.map((p) => p.v)));
  // Zero stays on the axis: a chart of 15 to 20 req/s must not look like a tenfold swing.
  const ticks = niceTicks(Math.min(0, min), Math.max(0, max), 5, isCountUnit(unit));
  const low = ticks[0]!;
  const high = ticks[ticks.length - 1]!;
  return { unit, ticks, y: (v) => plot.bottom - ((v - low) / (high - low)) * (plot.bottom - plot.top) };
}

function gridAndLeftAxis(axis: Axis, plot: Plot): string {
  const lines = axis.ticks.map((v) => {
    const y = round(axis.y(v));
    return `<line x1="${plot.left}" x2="${plot.right}" y1="${y}" y2="${y}" stroke="${GRID_COLOR}"/>` +
      `<text x="${plot.left - 8}" y="${y}" dy="0.35em" text-anchor="end" fill="${AXIS_COLOR}">${formatTick(v, axis.ticks)}</text>`;
  });
  const middle = round((plot.top + plot.bottom) / 2);
  lines.push(`<text transform="translate(16 ${middle}) rotate(-90)" text-anchor="middle" fill="${AXIS_COLOR}">${escapeHtml(axis.unit)}</text>`);
  return lines.join('\n');
}

function rightAxisMarks(axis: Axis, plot: Plot): string {
  const lines = axis.ticks.map((v) => {
    const y = round(axis.y(v));
    return `<line x1="${plot.right}" x2="${plot.right + 4}" y1="${y}" y2="${y}" stroke="${AXIS_COLOR}"/>` +
      `<text x="${plot.right + 8}" y="${y}" dy="0.35em" fill="${AXIS_COLOR}">${formatTick(v, axis.ticks)}</text>`;
  });
  const middle = round((plot.top + plot.bottom) / 2);
  lines.push(`<line x1="${plot.right}" x2="${plot.right}" y1="${plot.top}" y2="${plot.bottom}" stroke="${AXIS_COLOR}"/>`);
  lines.push(`<text transform="translate(${WIDTH - 10} ${middle}) rotate(90)" text-anchor="middle" fill="${AXIS_COLOR}">${escapeHtml(axis.unit)}</text>`);
  return lines.join('\n');
}

function timeAxis(endMs: number, x: (t: number) => number, plot: Plot): string {
  const endSeconds = endMs / 1000;
  const ticks = niceTicks(0, endSeconds, 15).filter((s) => s <= endSeconds);
  const lines = [
    `<line x1="${plot.left}" x2="${plot.right}" y1="${plot.bottom}" y2="${plot.bottom}" stroke="${AXIS_COLOR}"/>`,
    `<line x1="${plot.left}" x2="${plot.left}" y1="${plot.top}" y2="${plot.bottom}" stroke="${AXIS_COLOR}"/>`,
    ...ticks.map((s) => {
      const tx = round(x(s * 1000));
      return `<line x1="${tx}" x2="${tx}" y1="${plot.bottom}" y2="${plot.bottom + 4}" stroke="${AXIS_COLOR}"/>` +
        `<text x="${tx}" y="${plot.bottom + 16}" text-anchor="middle" fill="${AXIS_COLOR}">${formatTick(s, ticks)}</text>`;
    }),
    `<text x="${round((plot.left + plot.right) / 2)}" y="${HEIGHT - 6}" text-anchor="middle" fill="${AXIS_COLOR}">seconds since start</text>`,
  ];
  return lines.join('\n');
}

/** Dashed verticals with a label on top; labels that would collide drop to a second row. */
function markerLines(markers: ChartMarker[], x: (t: number) => number, plot: Plot): string {
  const rowEnds = [-Infinity, -Infinity];
  return [...markers].sort((a, b) => a.t - b.t).map((marker) => {
    const mx = round(x(marker.t));
    const width = marker.label.length * CHAR_WIDTH;
    // Near the right edge the label reads leftwards from the line.
    const leftwards = mx + 4 + width > WIDTH - 4;
    const start = leftwards ? mx - 4 - width : mx + 4;
    const freeRow = rowEnds.findIndex((end) => start > end + 6);
    const row = freeRow === -1 ? 0 : freeRow;
    rowEnds[row] = start + width;
    const ty = plot.top - 8 - (1 - row) * 14;
    return `<line x1="${mx}" x2="${mx}" y1="${ty + 4}" y2="${plot.bottom}" stroke="${marker.color}" stroke-dasharray="4 3"/>` +
      `<text x="${leftwards ? mx - 4 : mx + 4}" y="${ty}" text-anchor="${leftwards ? 'end' : 'start'}" fill="${marker.color}">${escapeHtml(marker.label)}</text>`;
  }).join('\n');
}

function seriesPath(series: ChartSeries, x: (t: number) => number, y: (v: number) => number): string {
  // Counts hold their value until the next sample: a slope from 1 to 4 replicas would invent 2.5.
  const points = isCountUnit(series.unit) ? stepPoints(series.points) : series.points;
  const coordinates = points.map((p) => `${round(x(p.t))},${round(y(p.v))}`).join(' ');
  const line = `<polyline fill="none" stroke="${series.color}" stroke-width="2" stroke-linejoin="round" points="${coordinates}"><title>${escapeHtml(series.label)}</title></polyline>`;
  // A single sample draws no line: show it as a dot.
  const only = series.points.length === 1 ? series.points[0] : undefined;
  return only ? `${line}\n<circle cx="${round(x(only.t))}" cy="${round(y(only.v))}" r="3.5" fill="${series.color}"/>` : line;
}

/** The points of a staircase through `points`: each value holds until the next sample. */
export function stepPoints(points: SeriesPoint[]): SeriesPoint[] {
  return points.flatMap((p, i) => (i === 0 ? [p] : [{ t: p.t, v: points[i - 1]!.v }, p]));
}

/** Tick labels with as many decimals as the step between ticks needs. */
function formatTick(value: number, ticks: number[]): string {
  return value.toFixed(decimalsOf(ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 1));
}

/** Decimals that show a nice step (1, 2 or 5 times a power of ten) exactly. */
function decimalsOf(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step)));
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

export interface WaterfallRow {
  label: string;
  /** ms since the trace start. */
  from: number;
  to: number;
  color: string;
  /** Beside the bar, e.g. "+212 ms". */
  note: string;
}

/** Horizontal bars, one row each, on a shared millisecond axis: how long each hop of a trace took. */
export function renderWaterfall(rows: WaterfallRow[], title: string): string {
  const rowHeight = 26;
  const plot: Plot = { left: 300, right: WIDTH - 100, top: 8, bottom: 8 + rows.length * rowHeight };
  const height = plot.bottom + 40;
  const endMs = Math.max(1, ...rows.map((r) => Math.max(r.from, r.to)));
  const ticks = niceTicks(0, endMs, 10);
  const x = (t: number) => plot.left + (t / ticks[ticks.length - 1]!) * (plot.right - plot.left);
  const grid = ticks.map((t) => {
    const tx = round(x(t));
    return `<line x1="${tx}" x2="${tx}" y1="${plot.top}" y2="${plot.bottom}" stroke="${GRID_COLOR}"/>` +
      `<text x="${tx}" y="${plot.bottom + 16}" text-anchor="middle" fill="${AXIS_COLOR}">${formatTick(t, ticks)}</text>`;
  });
  const bars = rows.map((row, i) => {
    const y = plot.top + i * rowHeight;
    const start = x(Math.min(row.from, row.to));
    // A hop that took no measurable time still gets a visible sliver.
    const width = Math.max(2, x(Math.max(row.from, row.to)) - start);
    const end = round(start + width);
    return `<text x="${plot.left - 10}" y="${y + rowHeight / 2}" dy="0.35em" text-anchor="end" fill="#111827">${escapeHtml(shorten(row.label, 46))}</text>` +
      `<rect x="${round(start)}" y="${y + 5}" width="${round(width)}" height="${rowHeight - 10}" rx="2" fill="${row.color}"/>` +
      `<text x="${end + 6}" y="${y + rowHeight / 2}" dy="0.35em" fill="${AXIS_COLOR}">${escapeHtml(row.note)}</text>`;
  });
  return [
    `<svg class="waterfall" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="${escapeHtml(title)}" font-family="${FONT}" font-size="11">`,
    ...grid,
    `<line x1="${plot.left}" x2="${plot.right}" y1="${plot.bottom}" y2="${plot.bottom}" stroke="${AXIS_COLOR}"/>`,
    ...bars,
    `<text x="${round((plot.left + plot.right) / 2)}" y="${height - 6}" text-anchor="middle" fill="${AXIS_COLOR}">ms since start</text>`,
    '</svg>',
  ].join('\n');
}
