/**
 * What a lesson run measured over time: numeric series grouped into charts (load, per-pod CPU and
 * memory, replicas) and cluster events. Exercise steps record into it; the terminal summary and the
 * HTML report render it. Times are milliseconds since the timeline started.
 */

export interface SeriesPoint {
  t: number;
  v: number;
}

export interface Series {
  /** The chart this series is drawn in, e.g. "cpu"; one chart holds every series with its key. */
  chart: string;
  /** Unique within the chart, e.g. a pod name. */
  label: string;
  /** Unit of the values, e.g. "req/s", "ms", "millicores", "MiB", "replicas". */
  unit: string;
  points: SeriesPoint[];
}

export interface TimelineEvent {
  t: number;
  /** Who reported it: a controller, the kubelet, or kubelab itself. */
  source: string;
  reason: string;
  message: string;
  /** kind/name of the object the event is about. */
  object?: string;
  /** Something went wrong in the cluster during the run (a node NotReady, a pod restarted, the API server away). */
  fault?: true;
}

export interface Timeline {
  /** Epoch milliseconds of t = 0. */
  startedAt: number;
  /** Chart titles by chart key, in the order the charts should appear. */
  charts: { key: string; title: string }[];
  series: Series[];
  events: TimelineEvent[];
  /** Things the reader must know to read the charts right (e.g. a shortened stabilization window). */
  notes: string[];
}

/** Collects a Timeline while a lesson runs. */
export class TimelineRecorder {
  readonly startedAt: number;
  private readonly charts: Timeline['charts'] = [];
  private readonly series = new Map<string, Series>();
  private readonly events: TimelineEvent[] = [];
  private readonly notes: string[] = [];

  constructor(startedAt = Date.now()) {
    this.startedAt = startedAt;
  }

  /** Declares a chart; series of an undeclared chart get a chart titled by their key. */
  chart(key: string, title: string): void {
    if (!this.charts.some((c) => c.key === key)) this.charts.push({ key, title });
  }

  point(chart: string, label: string, unit: string, value: number, at = Date.now()): void {
    this.chart(chart, chart);
    const id = `${chart}\u0000${label}`;
    let series = this.series.get(id);
    if (!series) {
      series = { chart, label, unit, points: [] };
      this.series.set(id, series);
    }
    series.points.push({ t: at - this.startedAt, v: value });
  }

  event(event: Omit<TimelineEvent, 't'>, at = Date.now()): void {
    this.events.push({ t: at - this.startedAt, ...event });
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  get isEmpty(): boolean {
    return this.series.size === 0 && this.events.length === 0;
  }

  snapshot(): Timeline {
    return {
      startedAt: this.startedAt,
      charts: [...this.charts],
      series: [...this.series.values()].map((s) => ({ ...s, points: [...s.points] })),
      events: [...this.events].sort((a, b) => a.t - b.t),
      notes: [...this.notes],
    };
  }
}

/** The faults of a timeline, one line each: "+73.2 s node/x NodeNotReady: Ready=Unknown (...)". */
export function faultLines(timeline: Pick<Timeline, 'events'> | undefined): string[] {
  return (timeline?.events ?? [])
    .filter((e) => e.fault)
    .sort((a, b) => a.t - b.t)
    .map((e) => `+${(e.t / 1000).toFixed(1)} s ${e.object ?? ''} ${e.reason}: ${e.message}`);
}
