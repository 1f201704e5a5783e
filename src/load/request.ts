import { request, type Dispatcher } from 'undici';
import { assertLoopbackTarget } from './loopback.js';
import { deadline } from '../util/deadline.js';
import { repeatUntil } from '../util/repeat.js';

export interface HttpRequestOptions {
  url: string;
  /** Sent as the Host header: how an Ingress rule is reached on 127.0.0.1 without /etc/hosts. */
  host?: string;
  method?: 'GET' | 'HEAD';
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Bytes of body kept as text; the rest is read and counted, not stored. */
  maxBodyBytes?: number;
  dispatcher?: Dispatcher;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The first maxBodyBytes of the body, as UTF-8. */
  body: string;
  bodyBytes: number;
  latencyMs: number;
}

/**
 * One request through undici's request API (not fetch: fetch drops a Host header by specification).
 * Loopback targets only.
 */
export async function httpRequest(options: HttpRequestOptions): Promise<HttpAnswer> {
  const url = assertLoopbackTarget(options.url);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const started = performance.now();
  const limit = deadline(timeoutMs, options.signal);
  try {
    const response = await request(url, {
      method: options.method ?? 'GET',
      headers: options.host ? { host: options.host } : {},
      signal: limit.signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let bodyBytes = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      bodyBytes += chunk.length;
      if (keptBytes < maxBodyBytes) {
        const part = chunk.subarray(0, maxBodyBytes - keptBytes);
        kept.push(part);
        keptBytes += part.length;
      }
    }
    return {
      status: response.statusCode,
      headers: response.headers,
      body: Buffer.concat(kept).toString('utf8'),
      bodyBytes,
      latencyMs: performance.now() - started,
    };
  } finally {
    limit.clear();
  }
}

export interface RequestUntilOptions extends HttpRequestOptions {
  /** The answer that ends the repetition. */
  accept: (answer: HttpAnswer) => boolean;
  /** Epoch milliseconds after which no new request starts. */
  deadline: number;
  /** Pause between attempts; bounds the request count to about (deadline - now) / retryMs. */
  retryMs: number;
}

export interface RequestUntilResult {
  /** The accepted answer, or the last one. */
  answer?: HttpAnswer;
  /** The last failure when no answer came back. */
  error?: Error;
  accepted: boolean;
  /** Epoch milliseconds when the accepted (or last) answer arrived. */
  at: number;
  attempts: number;
}

/**
 * Repeats a request until an answer is accepted or the deadline passes. For routes that change
 * asynchronously (an ingress controller picking up a rule) and offer nothing to watch.
 */
export async function requestUntil(options: RequestUntilOptions): Promise<RequestUntilResult> {
  const { accept, deadline, retryMs, ...request } = options;
  let attempts = 0;
  const attempt = async (): Promise<RequestUntilResult> => {
    attempts += 1;
    try {
      const answer = await httpRequest(request);
      return { answer, accepted: accept(answer), at: Date.now(), attempts };
    } catch (error) {
      if (request.signal?.aborted) throw error;
      return { error: error as Error, accepted: false, at: Date.now(), attempts };
    }
  };
  return repeatUntil(attempt, (result) => result.accepted, { deadline, everyMs: retryMs, signal: request.signal });
}
