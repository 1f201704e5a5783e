import { setTimeout as delay } from 'node:timers/promises';
import { InputError } from '../errors.js';
import { encodeRequest, LoadConnection, type LoadTarget } from './connection.js';
import { LatencyRecorder, type LatencySummary } from './latency.js';
import { assertLoopbackTarget } from './loopback.js';

export interface LoadOptions {
  /** Loopback URL, e.g. http://127.0.0.1:8081/ */
  url: string;
  /** Host header: the Ingress virtual host to reach (e.g. myapp.local). */
  host?: string;
  /**
   * HEAD runs the app's whole request path without sending the body: load that costs the pods CPU
   * rather than costing the ingress and the client bandwidth. GET by default.
   */
  method?: 'GET' | 'HEAD';
  /** Connections. Without `rate`, also the number of requests kept in flight (closed model). */
  concurrency: number;
  /** Requests per second on a fixed schedule (open model): latency counts from the scheduled time. */
  rate?: number;
  /** The run stops issuing after this long and cancels what is still in flight. */
  durationMs: number;
  /** The run stops issuing after this many requests and lets them finish. */
  maxRequests?: number;
  requestTimeoutMs?: number;
  signal?: AbortSignal;
  progressIntervalMs?: number;
  onProgress?: (sample: LoadSample, totals: LoadTotals) => void;
}

/** One progress interval: what completed in it. */
export interface LoadSample {
  /** End of the interval, from the start of the run. */
  atMs: number;
  completed: number;
  errors: number;
  rps: number;
  p99Ms: number;
}

export interface LoadTotals {
  sent: number;
  completed: number;
  errors: number;
  elapsedMs: number;
}

export interface LoadResult {
  target: string;
  host?: string;
  mode: 'concurrency' | 'rate';
  concurrency: number;
  rate?: number;
  sent: number;
  /** Requests that got a response (any status) with the whole body read. */
  completed: number;
  /** Requests that failed (connection refused, reset, timeout). */
  errors: number;
  /** Requests cut off when the duration ran out or the run was aborted. */
  cancelled: number;
  statusCounts: Record<string, number>;
  errorCounts: Record<string, number>;
  bodyBytes: number;
  durationMs: number;
  rps: number;
  latency: LatencySummary;
  samples: LoadSample[];
  stoppedBy: 'duration' | 'count' | 'abort';
}

const MAX_CONCURRENCY = 1024;
/** In rate mode, how many requests may wait per connection before the schedule itself waits. */
const QUEUE_PER_CONNECTION = 64;

function validate(options: LoadOptions): void {
  const positiveInt = (value: number | undefined, field: string, max = Number.MAX_SAFE_INTEGER) => {
    if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > max)) {
      throw new InputError(`load ${field}: ${value} is not a whole number between 1 and ${max}`);
    }
  };
  positiveInt(options.concurrency, 'concurrency', MAX_CONCURRENCY);
  positiveInt(options.maxRequests, 'maxRequests');
  if (!(options.durationMs > 0) || !Number.isFinite(options.durationMs)) {
    throw new InputError(`load durationMs: ${options.durationMs} must be a positive number: every load run is bounded in time`);
  }
  if (options.rate !== undefined && (!(options.rate > 0) || !Number.isFinite(options.rate))) {
    throw new InputError(`load rate: ${options.rate} must be a positive number of requests per second`);
  }
  // The value goes into the request as it is: no CR, LF or other control character may split it.
  if (options.host !== undefined && !/^[\x21-\x7e]+$/.test(options.host)) {
    throw new InputError(`load host: ${JSON.stringify(options.host)} is not a host name (visible ASCII, no spaces)`);
  }
}

/** A FIFO of due times that does not move the whole array per request. */
class DueTimes {
  private times: number[] = [];
  private head = 0;

  get length(): number {
    return this.times.length - this.head;
  }

  push(time: number): void {
    this.times.push(time);
  }

  shift(): number {
    const time = this.times[this.head]!;
    this.head += 1;
    // Drop the consumed front once it is most of the array: a backlog that never drains stays bounded.
    if (this.head >= 1024 && this.head * 2 >= this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return time;
  }

  clear(): void {
    this.times = [];
    this.head = 0;
  }
}

/**
 * HTTP load on `concurrency` keep-alive connections of kubelab's own (connection.ts: undici's
 * per-request machinery cost more than half the throughput), bounded by duration and optionally by
 * count, to loopback only.
 * Closed model: `concurrency` loops each send a request when the previous answered. Open model
 * (`rate`): request i is due at start + i/rate whatever the server does, and its latency counts from
 * that due time, so a slow server shows as latency instead of silently lowering the load.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  validate(options);
  const url = assertLoopbackTarget(options.url);
  const method = options.method ?? 'GET';
  const target: LoadTarget = {
    url,
    request: encodeRequest(method, url, options.host),
    bodyless: method === 'HEAD',
    timeoutMs: options.requestTimeoutMs ?? 10_000,
  };
  const { concurrency } = options;

  let stoppedBy: LoadResult['stoppedBy'] | undefined;
  const issuing = new AbortController();
  const stop = (why: LoadResult['stoppedBy'], cancelInFlight: boolean) => {
    stoppedBy ??= why;
    issuing.abort();
    if (cancelInFlight) cancelAll();
  };
  const onAbort = () => stop('abort', true);
  const durationTimer = setTimeout(() => stop('duration', true), options.durationMs);

  const total = new LatencyRecorder();
  const interval = new LatencyRecorder();
  const statusCounts: Record<string, number> = {};
  const errorCounts: Record<string, number> = {};
  let sent = 0;
  let completed = 0;
  let errors = 0;
  let cancelled = 0;
  let bodyBytes = 0;

  const claim = (): boolean => {
    if (issuing.signal.aborted) return false;
    if (options.maxRequests !== undefined && sent >= options.maxRequests) {
      stop('count', false);
      return false;
    }
    sent += 1;
    return true;
  };

  /** When each connection's request was due: latency counts from there. */
  const dueAt = new Float64Array(concurrency);
  /** Free connections; the most recently used is reused first, so the rest may idle out rather than race a server's idle close. */
  const idle: LoadConnection[] = [];
  /** Rate mode: due times waiting for a free connection, oldest first. */
  const queued = new DueTimes();
  const rateMode = options.rate !== undefined;
  let wake: (() => void) | undefined;
  const changed = () => new Promise<void>((resolve) => (wake = resolve));
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const start = (connection: LoadConnection, due: number) => {
    dueAt[connection.index] = due;
    connection.send();
  };
  /** A connection is free (at `now`): it takes the next request, or waits. */
  const next = (connection: LoadConnection, now: number) => {
    if (rateMode && queued.length > 0) {
      start(connection, queued.shift());
      notify();
    } else if (!rateMode && claim()) {
      start(connection, now);
    } else {
      idle.push(connection);
      notify();
    }
  };
  const connections: LoadConnection[] = Array.from(
    { length: concurrency },
    (_, index) =>
      new LoadConnection(index, target, {
        response(connection, status, bytes) {
          const now = performance.now();
          interval.record(now - dueAt[connection.index]!);
          completed += 1;
          bodyBytes += bytes;
          statusCounts[status] = (statusCounts[status] ?? 0) + 1;
          next(connection, now);
        },
        failure(connection, code) {
          errors += 1;
          errorCounts[code] = (errorCounts[code] ?? 0) + 1;
          next(connection, performance.now());
        },
      }),
  );
  const cancelAll = () => {
    for (const connection of connections) {
      if (!connection.busy) continue;
      connection.close();
      cancelled += 1;
      idle.push(connection);
    }
    cancelled += queued.length;
    queued.clear();
    notify();
  };
  const allIdle = () => idle.length === concurrency;
  const silenceTimer = setInterval(
    () => {
      const now = performance.now();
      for (const connection of connections) connection.checkSilence(now);
    },
    Math.min(1000, Math.max(10, target.timeoutMs / 10)),
  );
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const started = performance.now();
  const samples: LoadSample[] = [];
  let sampledAt = started;
  let sampledCompleted = 0;
  let sampledErrors = 0;
  const takeSample = () => {
    const now = performance.now();
    const seconds = (now - sampledAt) / 1000;
    if (seconds <= 0) return;
    const sample: LoadSample = {
      atMs: Math.round(now - started),
      completed: completed - sampledCompleted,
      errors: errors - sampledErrors,
      rps: (completed - sampledCompleted) / seconds,
      p99Ms: interval.summary().p99Ms,
    };
    samples.push(sample);
    // Each latency is recorded once, in the interval's histogram, which joins the run's here.
    total.add(interval);
    interval.reset();
    sampledAt = now;
    sampledCompleted = completed;
    sampledErrors = errors;
    options.onProgress?.(sample, { sent, completed, errors, elapsedMs: now - started });
  };
  const progressTimer = setInterval(takeSample, options.progressIntervalMs ?? 1000);

  try {
    if (!rateMode) {
      for (const connection of connections) next(connection, performance.now());
    } else {
      idle.push(...connections);
      const period = 1000 / options.rate!;
      const queueLimit = concurrency * QUEUE_PER_CONNECTION;
      for (let i = 0; claim(); i += 1) {
        const due = started + i * period;
        const wait = due - performance.now();
        if (wait > 0) {
          // Pacing the schedule, cancelled the moment the run stops.
          const stillRunning = await delay(wait, true, { signal: issuing.signal }).catch(() => false);
          if (!stillRunning) {
            sent -= 1;
            break;
          }
        }
        while (queued.length >= queueLimit && !issuing.signal.aborted) await changed();
        if (issuing.signal.aborted) {
          sent -= 1;
          break;
        }
        const free = idle.pop();
        if (free) start(free, due);
        else queued.push(due);
      }
    }
    while (!allIdle()) await changed();
  } finally {
    clearTimeout(durationTimer);
    clearInterval(progressTimer);
    clearInterval(silenceTimer);
    options.signal?.removeEventListener('abort', onAbort);
    for (const connection of connections) connection.close();
  }
  if (completed + errors > sampledCompleted + sampledErrors) takeSample();

  const durationMs = performance.now() - started;
  return {
    target: url.href,
    ...(options.host ? { host: options.host } : {}),
    mode: options.rate === undefined ? 'concurrency' : 'rate',
    concurrency: options.concurrency,
    ...(options.rate !== undefined ? { rate: options.rate } : {}),
    sent,
    completed,
    errors,
    cancelled,
    statusCounts,
    errorCounts,
    bodyBytes,
    durationMs,
    rps: completed / (durationMs / 1000),
    latency: total.summary(),
    samples,
    stoppedBy: stoppedBy ?? 'count',
  };
}

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));

export function formatLoadSummary(result: LoadResult): string {
  const statuses = Object.entries(result.statusCounts)
    .map(([status, count]) => `${status}×${count}`)
    .join(' ');
  const failures = Object.entries(result.errorCounts)
    .map(([code, count]) => `${code}×${count}`)
    .join(' ');
  const l = result.latency;
  const how = result.mode === 'rate' ? `${result.rate} req/s scheduled` : `${result.concurrency} concurrent`;
  return [
    `${result.completed} responses in ${(result.durationMs / 1000).toFixed(1)} s (${result.rps.toFixed(1)} req/s, ${how}` +
      `${result.host ? `, Host: ${result.host}` : ''}), stopped by ${result.stoppedBy}`,
    `status ${statuses || 'none'}; errors ${result.errors}${failures ? ` (${failures})` : ''}; cancelled ${result.cancelled}`,
    `latency ms: p50 ${ms(l.p50Ms)}  p90 ${ms(l.p90Ms)}  p99 ${ms(l.p99Ms)}  max ${ms(l.maxMs)}`,
  ].join('\n');
}
