/**
 * The request helper and the load generator against a real HTTP server on 127.0.0.1: the Host
 * header arrives, each bound (count, duration, abort) stops the run, rate mode paces, failures are
 * counted, and the percentiles reflect the server's real delay.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatLoadSummary, runLoad, type LoadSample } from '../../src/load/generator.js';
import { httpRequest } from '../../src/load/request.js';

const DELAY_MS = 20;
let server: Server;
let base: string;
const hostsSeen: string[] = [];
let served = 0;
const methodsSeen: string[] = [];

function handle(req: IncomingMessage, res: import('node:http').ServerResponse): void {
  served += 1;
  hostsSeen.push(req.headers.host ?? '');
  methodsSeen.push(req.method ?? '');
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/slow') {
    setTimeout(() => res.end('slow'), DELAY_MS);
    return;
  }
  if (url.pathname === '/hang') return; // never answers: only the run's bounds end it
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

  it('measures the server delay in the percentiles', async () => {
    const result = await runLoad({ url: `${base}/slow`, concurrency: 4, durationMs: 30_000, maxRequests: 40 });
    expect(result.completed).toBe(40);
    expect(result.latency.p50Ms).toBeGreaterThanOrEqual(DELAY_MS - 1);
    expect(result.latency.minMs).toBeGreaterThanOrEqual(DELAY_MS - 1);
    expect(result.latency.p99Ms).toBeGreaterThanOrEqual(result.latency.p50Ms);
  });

  it('stops at the duration and cancels what is still in flight', async () => {
    const result = await runLoad({ url: `${base}/hang`, concurrency: 3, durationMs: 400, requestTimeoutMs: 60_000 });
    expect(result.stoppedBy).toBe('duration');
    expect(result.completed).toBe(0);
    expect(result.cancelled).toBe(3);
    expect(result.errors).toBe(0);
  });

  it('stops when its AbortSignal fires', async () => {
    const controller = new AbortController();
    const samples: LoadSample[] = [];
    const running = runLoad({
      url: `${base}/slow`,
      concurrency: 2,
      durationMs: 60_000,
      signal: controller.signal,
      progressIntervalMs: 100,
      onProgress: (sample) => {
        samples.push(sample);
        if (samples.length === 3) controller.abort();
      },
    });
    const result = await running;
    expect(result.stoppedBy).toBe('abort');
    expect(result.completed).toBeGreaterThan(0);
    expect(samples.length).toBeGreaterThanOrEqual(3);
    expect(samples[0]!.rps).toBeGreaterThan(0);
    expect(samples[0]!.p99Ms).toBeGreaterThanOrEqual(DELAY_MS - 1);
  });

  it('paces requests in rate mode: n requests at r/s take at least (n-1)/r seconds', async () => {
    const started = performance.now();
    const result = await runLoad({ url: `${base}/`, concurrency: 2, rate: 50, durationMs: 30_000, maxRequests: 11 });
    const elapsed = performance.now() - started;
    expect(result.mode).toBe('rate');
    expect(result.completed).toBe(11);
    // Lower bound only: the schedule must not fire early (request 11 is due at 10/50 s).
    expect(elapsed).toBeGreaterThanOrEqual(195);
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
