/**
 * kubelab's load generator against a baseline measured in the same run: the same number of
 * keep-alive loops on node:http's own client, against the same loopback server, for the same time.
 * Prints ratios (kubelab / baseline) for throughput, p99 latency and peak RSS growth.
 *   npm run bench:load [-- --seconds 5 --concurrency 16]
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { runLoad } from '../src/load/generator.js';
import { LatencyRecorder } from '../src/load/latency.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '16' } } });
const durationMs = Number(values.seconds) * 1000;
const concurrency = Number(values.concurrency);
const BODY = Buffer.alloc(4096, 'x');

interface Measured {
  rps: number;
  p99Ms: number;
  rssGrowthMb: number;
}

/** RSS sampled every 50 ms during `work`; returns the peak growth over the starting RSS. */
async function withPeakRss<T>(work: () => Promise<T>): Promise<[T, number]> {
  global.gc?.();
  const start = process.memoryUsage.rss();
  let peak = start;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  try {
    const result = await work();
    return [result, (peak - start) / 1e6];
  } finally {
    clearInterval(sampler);
  }
}

async function baseline(port: number): Promise<Measured> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latency = new LatencyRecorder();
  let completed = 0;
  const deadline = performance.now() + durationMs;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const started = performance.now();
      const req = request({ host: '127.0.0.1', port, path: '/', agent, headers: { host: 'myapp.local' } }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          latency.record(performance.now() - started);
          completed += 1;
          resolve();
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  const [, rss] = await withPeakRss(() =>
    Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) await one();
      }),
    ),
  );
  agent.destroy();
  return { rps: completed / (durationMs / 1000), p99Ms: latency.summary().p99Ms, rssGrowthMb: rss };
}

async function kubelab(port: number): Promise<Measured> {
  const [result, rss] = await withPeakRss(() =>
    runLoad({ url: `http://127.0.0.1:${port}/`, host: 'myapp.local', concurrency, durationMs }),
  );
  return { rps: result.rps, p99Ms: result.latency.p99Ms, rssGrowthMb: rss };
}

const server = createServer((_req, res) => res.end(BODY));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as AddressInfo).port;
try {
  await kubelab(port); // warm-up: JIT and connection setup
  const base = await baseline(port);
  const ours = await kubelab(port);
  const row = (name: string, m: Measured) =>
    `${name.padEnd(22)} ${m.rps.toFixed(0).padStart(8)} req/s  p99 ${m.p99Ms.toFixed(2).padStart(7)} ms  peak RSS +${m.rssGrowthMb.toFixed(1)} MB`;
  console.log(`load generator, ${concurrency} connections, ${durationMs / 1000} s each, 4 KiB responses on 127.0.0.1`);
  console.log(row('baseline (node:http)', base));
  console.log(row('kubelab (undici Pool)', ours));
  console.log(
    `ratio kubelab/baseline: throughput ${(ours.rps / base.rps).toFixed(2)}x, p99 ${(ours.p99Ms / base.p99Ms).toFixed(2)}x` +
      ` (goal: throughput >= 1.0x)`,
  );
} finally {
  server.closeAllConnections();
  server.close();
}
