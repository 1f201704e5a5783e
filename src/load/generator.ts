import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';
import { InputError } from '../errors.js';
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
}

/**
 * HTTP load on an undici Pool, bounded by duration and optionally by count, to loopback only.
 * Closed model: `concurrency` loops each send a request when the previous answered. Open model
 * (`rate`): request i is due at start + i/rate whatever the server does, and its latency counts from
 * that due time, so a slow server shows as latency instead of silently lowering the load.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  validate(options);
  const url = assertLoopbackTarget(options.url);
  const path = `${url.pathname}${url.search}`;
  const headers = options.host ? { host: options.host } : {};
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const pool = new Pool(url.origin, { connections: options.concurrency, pipelining: 1 });

  const issuing = new AbortController();
  const inFlight = new AbortController();
  // Every request in flight listens on this one signal.
  setMaxListeners(options.concurrency * QUEUE_PER_CONNECTION + 16, inFlight.signal);
  let stoppedBy: LoadResult['stoppedBy'] | undefined;
  const stop = (why: LoadResult['stoppedBy'], cancelInFlight: boolean) => {
    stoppedBy ??= why;
    issuing.abort();
    if (cancelInFlight) inFlight.abort();
  };
  const onAbort = () => stop('abort', true);
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
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

  const fire = async (dueAt: number): Promise<void> => {
    try {
      const response = await pool.request({
        path,
        method: options.method ?? 'GET',
        headers,
        signal: inFlight.signal,
        headersTimeout: requestTimeoutMs,
        bodyTimeout: requestTimeoutMs,
      });
      for await (const chunk of response.body as AsyncIterable<Buffer>) bodyBytes += chunk.length;
      const latencyMs = performance.now() - dueAt;
      total.record(latencyMs);
      interval.record(latencyMs);
      completed += 1;
      statusCounts[response.statusCode] = (statusCounts[response.statusCode] ?? 0) + 1;
    } catch (error) {
      if (inFlight.signal.aborted) {
        cancelled += 1;
        return;
      }
      errors += 1;
      const code = (error as { code?: string }).code ?? (error as Error).name ?? 'Error';
      errorCounts[code] = (errorCounts[code] ?? 0) + 1;
    }
  };

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
    interval.reset();
    sampledAt = now;
    sampledCompleted = completed;
    sampledErrors = errors;
    options.onProgress?.(sample, { sent, completed, errors, elapsedMs: now - started });
  };
  const progressTimer = setInterval(takeSample, options.progressIntervalMs ?? 1000);

  try {
    if (options.rate === undefined) {
      const loop = async () => {
        while (claim()) await fire(performance.now());
      };
      await Promise.all(Array.from({ length: options.concurrency }, loop));
    } else {
      const period = 1000 / options.rate;
      const pending = new Set<Promise<void>>();
      const queueLimit = options.concurrency * QUEUE_PER_CONNECTION;
      for (let i = 0; claim(); i += 1) {
        const dueAt = started + i * period;
        const wait = dueAt - performance.now();
        if (wait > 0) {
          // Pacing the schedule, cancelled the moment the run stops.
          const stillRunning = await delay(wait, true, { signal: issuing.signal }).catch(() => false);
          if (!stillRunning) {
            sent -= 1;
            break;
          }
        }
        while (pending.size >= queueLimit) await Promise.race(pending);
        const request = fire(dueAt).finally(() => pending.delete(request));
        pending.add(request);
      }
      await Promise.all(pending);
    }
  } finally {
    clearTimeout(durationTimer);
    clearInterval(progressTimer);
    options.signal?.removeEventListener('abort', onAbort);
    await pool.destroy();
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
