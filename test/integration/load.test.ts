/**
 * The request helper and the load generator against a real HTTP server on 127.0.0.1: the Host
 * header arrives, each bound (count, duration, abort) stops the run, rate mode paces, failures are
 * counted, and the percentiles place answers the server held for a known time above those it did not.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatLoadSummary, runLoad } from '../../src/load/generator.js';
import { httpRequest } from '../../src/load/request.js';

/** /held answers the first HELD_AFTER requests at once and holds each later one HELD_MS. */
const HELD_AFTER = 30;
const HELD_MS = 250;
let server: Server;
let base: string;
const hostsSeen: string[] = [];
let served = 0;
let heldRequests = 0;
let hangingRequests = 0;
/** Called when a /hang request arrives (a test waits on arrivals, not on time). */
let onHanging: (() => void) | undefined;
const methodsSeen: string[] = [];

function handle(req: IncomingMessage, res: import('node:http').ServerResponse): void {
  served += 1;
  hostsSeen.push(req.headers.host ?? '');
  methodsSeen.push(req.method ?? '');
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/held') {
    heldRequests += 1;
    if (heldRequests > HELD_AFTER) setTimeout(() => res.end('held'), HELD_MS);
    else res.end('at once');
    return;
  }
  if (url.pathname === '/hang') {
    hangingRequests += 1;
    onHanging?.();
    return; // never answers: only the run's bounds end it
  }
  if (url.pathname === '/vhost') {
    const known = req.headers.host === 'myapp.local';
    res.writeHead(known ? 200 : 404).end(known ? 'I am watching you, Marius N' : 'unknown host');
    return;
  }
  res.end('ok');
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('httpRequest', () => {
  it('sends the Host header so a virtual host is reached on 127.0.0.1', async () => {
    const hit = await httpRequest({ url: `${base}/vhost`, host: 'myapp.local' });
    expect(hit.status).toBe(200);
    expect(hit.body).toBe('I am watching you, Marius N');
    const miss = await httpRequest({ url: `${base}/vhost`, host: 'other.local' });
    expect(miss.status).toBe(404);
  });

  it('keeps at most maxBodyBytes of the body but counts all of it', async () => {
    const answer = await httpRequest({ url: `${base}/vhost`, host: 'myapp.local', maxBodyBytes: 4 });
    expect(answer.body).toBe('I am');
    expect(answer.bodyBytes).toBe(27);
  });

  it('gives up after its timeout', async () => {
    await expect(httpRequest({ url: `${base}/hang`, timeoutMs: 300 })).rejects.toThrow();
  });

  it('refuses a non-loopback target without connecting', async () => {
    const before = served;
    await expect(httpRequest({ url: 'http://192.0.2.1/' })).rejects.toThrow(/not a loopback address/);
    expect(served).toBe(before);
  });
});

describe('runLoad', () => {
  it('stops at maxRequests with every response counted and the Host header on each', async () => {
    hostsSeen.length = 0;
    const result = await runLoad({ url: `${base}/vhost`, host: 'myapp.local', concurrency: 8, durationMs: 30_000, maxRequests: 500 });
    console.log(formatLoadSummary(result));
    expect(result.stoppedBy).toBe('count');
    expect(result.sent).toBe(500);
    expect(result.completed).toBe(500);
    expect(result.statusCounts).toEqual({ 200: 500 });
    expect(result.errors).toBe(0);
    expect(result.bodyBytes).toBe(500 * 27);
    expect(new Set(hostsSeen)).toEqual(new Set(['myapp.local']));
    expect(result.latency.count).toBe(500);
  });

  it('sends HEAD when asked: the route runs for each request and no body comes back', async () => {
    methodsSeen.length = 0;
    const result = await runLoad({ url: `${base}/vhost`, host: 'myapp.local', method: 'HEAD', concurrency: 4, durationMs: 30_000, maxRequests: 100 });
    expect(result.statusCounts).toEqual({ 200: 100 });
    expect(result.bodyBytes).toBe(0);
    expect(new Set(methodsSeen)).toEqual(new Set(['HEAD']));
    expect(methodsSeen).toHaveLength(100);
  });

  it('puts the answers the server held above the ones it did not: p50 below the hold, p90 and up at or above it', async () => {
    heldRequests = 0;
    // 40 requests, 4 at a time: the server answers 30 at once and holds the last 10 for HELD_MS.
    const result = await runLoad({ url: `${base}/held`, concurrency: 4, durationMs: 30_000, maxRequests: HELD_AFTER + 10 });
    expect(result.completed).toBe(HELD_AFTER + 10);
    expect(result.latency.count).toBe(HELD_AFTER + 10);
    // A held answer cannot arrive before its hold; the 20th fastest is one of the 30 answered at once.
    expect(result.latency.p50Ms).toBeLessThan(HELD_MS);
    expect(result.latency.minMs).toBeLessThan(HELD_MS);
    expect(result.latency.p90Ms).toBeGreaterThanOrEqual(HELD_MS);
    expect(result.latency.maxMs).toBeGreaterThanOrEqual(HELD_MS);
  });

  it('stops at the duration and cancels what is still in flight', async () => {
    const result = await runLoad({ url: `${base}/hang`, concurrency: 3, durationMs: 400, requestTimeoutMs: 60_000 });
    expect(result.stoppedBy).toBe('duration');
    expect(result.completed).toBe(0);
    expect(result.cancelled).toBe(3);
    expect(result.errors).toBe(0);
  });

  it('stops when its AbortSignal fires, cancelling what is in flight', async () => {
    hangingRequests = 0;
    const controller = new AbortController();
    // Both connections' requests have reached the server and hang: then the signal fires.
    onHanging = () => {
      if (hangingRequests === 2) controller.abort();
    };
    try {
      const result = await runLoad({ url: `${base}/hang`, concurrency: 2, durationMs: 60_000, requestTimeoutMs: 60_000, signal: controller.signal });
      expect(result.stoppedBy).toBe('abort');
      expect(result.sent).toBe(2);
      expect(result.cancelled).toBe(2);
      expect(result.completed).toBe(0);
      expect(result.errors).toBe(0);
      expect(hangingRequests).toBe(2);
    } finally {
      onHanging = undefined;
    }
  }, 10_000);

  it('paces requests in rate mode: 10/s for 1.05 s sends exactly the 11 due at 0, 0.1, ..., 1.0 s', async () => {
    const before = served;
    // No count bound: only the schedule limits how many are sent (a closed loop would send hundreds).
    const result = await runLoad({ url: `${base}/`, concurrency: 2, rate: 10, durationMs: 1050 });
    expect(result.mode).toBe('rate');
    expect(result.stoppedBy).toBe('duration');
    expect(result.sent).toBe(11);
    expect(result.completed + result.cancelled).toBe(11);
    expect(served - before).toBe(11);
  });

  it('counts connection failures as errors by code', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await runLoad({ url: `http://127.0.0.1:${port}/`, concurrency: 1, durationMs: 10_000, maxRequests: 5 });
    expect(result.completed).toBe(0);
    expect(result.errors).toBe(5);
    expect(result.errorCounts).toEqual({ ECONNREFUSED: 5 });
  });
});
