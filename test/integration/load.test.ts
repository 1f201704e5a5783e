/**
 * The request helper and the load generator against a real HTTP server on 127.0.0.1: the Host
 * header arrives, each bound (count, duration, abort) stops the run, rate mode paces, failures are
 * counted, and the percentiles place answers the server held for a known time above those it did not.
 * A raw TCP server checks the generator's own connections: keep-alive reuse, every framing a server
 * may use written in small pieces, resets mid-body and silent servers.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { formatLoadSummary, runLoad } from '../../src/load/generator.js';
import { httpRequest } from '../../src/load/request.js';

/** /held answers the first HELD_AFTER requests at once and holds each later one HELD_MS. */
const HELD_AFTER = 30;
const HELD_MS = 250;
/** /slow holds every answer SLOW_MS. */
const SLOW_MS = 50;
/** libuv runs a timer by its millisecond clock: a 50 ms hold can end up to 1 ms early on the client's hrtime. */
const TIMER_SLACK_MS = 1;
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
  if (url.pathname === '/slow') {
    setTimeout(() => res.end('slow'), SLOW_MS);
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

interface RawServer {
  url: string;
  /** Connections accepted so far. */
  connections: () => number;
  close: () => Promise<void>;
}

/** A TCP server that calls `answer` for each request head it reads, `n` counting requests over all connections. */
async function rawServer(answer: (n: number, socket: Socket) => void): Promise<RawServer> {
  let requests = 0;
  let connections = 0;
  const sockets = new Set<Socket>();
  const tcp = createTcpServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = '';
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        pending = pending.slice(end + 4);
        answer(requests++, socket);
      }
    });
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(tcp.address() as AddressInfo).port}/`,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => tcp.close(resolve));
    },
  };
}

/** Writes `text` a few bytes at a time, each piece in its own turn of the event loop; ends the connection after it when `close`. */
function writeInPieces(socket: Socket, text: string, close: boolean, at = 0): void {
  if (socket.destroyed) return;
  if (at >= text.length) {
    if (close) socket.end();
    return;
  }
  socket.write(text.slice(at, at + 7), 'latin1');
  setImmediate(() => writeInPieces(socket, text, close, at + 7));
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

  it('counts latency in rate mode from the scheduled time: a queue behind a slow server shows as latency', async () => {
    // One connection, due every 10 ms, each answer held SLOW_MS: request i cannot be answered before
    // (i + 1) * SLOW_MS, so its latency from its due time i * 10 ms is at least 50 + 40 i ms. Counted
    // from when it was sent, every latency would be about SLOW_MS.
    const result = await runLoad({ url: `${base}/slow`, concurrency: 1, rate: 100, durationMs: 30_000, maxRequests: 10 });
    expect(result.completed).toBe(10);
    expect(result.latency.count).toBe(10);
    expect(result.latency.minMs).toBeGreaterThanOrEqual(SLOW_MS - TIMER_SLACK_MS);
    expect(result.latency.p50Ms).toBeGreaterThanOrEqual(SLOW_MS + 40 * 4 - TIMER_SLACK_MS);
    expect(result.latency.maxMs).toBeGreaterThanOrEqual(SLOW_MS + 40 * 9 - TIMER_SLACK_MS);
  });

  it('reports progress samples whose counts add up to the run, with every latency in the run histogram', async () => {
    const seen: number[] = [];
    // 20 answers held SLOW_MS each, 2 at a time: at least 10 * SLOW_MS, so samples every 30 ms come several times.
    const result = await runLoad({
      url: `${base}/slow`,
      concurrency: 2,
      durationMs: 30_000,
      maxRequests: 20,
      progressIntervalMs: 30,
      onProgress: (_sample, totals) => seen.push(totals.completed),
    });
    expect(result.samples.length).toBeGreaterThanOrEqual(2);
    expect(result.samples.reduce((sum, sample) => sum + sample.completed, 0)).toBe(20);
    expect(seen.at(-1)).toBe(20);
    expect(result.latency.count).toBe(20);
    expect(result.latency.minMs).toBeGreaterThanOrEqual(SLOW_MS - TIMER_SLACK_MS);
  });

  it('fails a request whose server stays silent past requestTimeoutMs, counted as ETIMEDOUT', async () => {
    const result = await runLoad({ url: `${base}/hang`, concurrency: 2, durationMs: 30_000, maxRequests: 4, requestTimeoutMs: 200 });
    expect(result.stoppedBy).toBe('count');
    expect(result.completed).toBe(0);
    expect(result.errorCounts).toEqual({ ETIMEDOUT: 4 });
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

describe('runLoad on its own connections', () => {
  const servers: RawServer[] = [];
  afterAll(async () => {
    for (const server of servers) await server.close();
  });
  const serve = async (answer: (n: number, socket: Socket) => void) => {
    const server = await rawServer(answer);
    servers.push(server);
    return server;
  };

  it('keeps its connections alive: 400 requests on 8 connections open 8', async () => {
    const server = await serve((_n, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    const result = await runLoad({ url: server.url, concurrency: 8, durationMs: 30_000, maxRequests: 400 });
    expect(result.completed).toBe(400);
    expect(server.connections()).toBe(8);
  });

  it('reads Content-Length, chunked and read-until-close answers written in pieces: each counted once, every body byte counted', async () => {
    const statusesSent: Record<string, number> = {};
    let bodyBytesSent = 0;
    const server = await serve((n, socket) => {
      const size = 1 + ((n * 37) % 500);
      const framing = n % 3;
      const status = 200 + framing;
      statusesSent[status] = (statusesSent[status] ?? 0) + 1;
      bodyBytesSent += size;
      const half = Math.floor(size / 2);
      const text =
        framing === 0
          ? `HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n${'a'.repeat(size)}`
          : framing === 1
            ? `HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n${half.toString(16)}\r\n${'b'.repeat(half)}\r\n` +
              `${(size - half).toString(16)};ext=1\r\n${'c'.repeat(size - half)}\r\n0\r\n\r\n`
            : `HTTP/1.0 202 Accepted\r\n\r\n${'d'.repeat(size)}`;
      // Read until close: the server ends the connection, the generator dials a new one.
      writeInPieces(socket, text, framing === 2);
    });
    const result = await runLoad({ url: server.url, concurrency: 4, durationMs: 30_000, maxRequests: 300 });
    expect(result.errors).toBe(0);
    expect(result.completed).toBe(300);
    expect(result.latency.count).toBe(300);
    expect(result.statusCounts).toEqual(statusesSent);
    expect(result.bodyBytes).toBe(bodyBytesSent);
  });

  it('times out silence, not a long answer: a body trickling in a byte per 50 ms outlasts a 200 ms requestTimeoutMs', async () => {
    const server = await serve((_n, socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n');
      const trickle = (left: number) => {
        if (left === 0 || socket.destroyed) return;
        socket.write('x');
        setTimeout(() => trickle(left - 1), 50);
      };
      setTimeout(() => trickle(8), 50);
    });
    const result = await runLoad({ url: server.url, concurrency: 1, durationMs: 30_000, maxRequests: 2, requestTimeoutMs: 200 });
    expect(result.errors).toBe(0);
    expect(result.completed).toBe(2);
    expect(result.latency.minMs).toBeGreaterThanOrEqual(8 * (50 - TIMER_SLACK_MS));
  });

  it('counts an answer cut off mid-body by the server closing as ECONNRESET, not as a response', async () => {
    const server = await serve((_n, socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b'));
    const result = await runLoad({ url: server.url, concurrency: 1, durationMs: 30_000, maxRequests: 3 });
    expect(result.completed).toBe(0);
    expect(result.errorCounts).toEqual({ ECONNRESET: 3 });
  });

  it('counts an answer that is not HTTP as HPE_INVALID_RESPONSE', async () => {
    const server = await serve((_n, socket) => socket.write('SSH-2.0-OpenSSH\r\n\r\n'));
    const result = await runLoad({ url: server.url, concurrency: 1, durationMs: 30_000, maxRequests: 2 });
    expect(result.completed).toBe(0);
    expect(result.errorCounts).toEqual({ HPE_INVALID_RESPONSE: 2 });
  });
});
