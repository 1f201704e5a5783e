/**
 * kubelab's load generator against wrk and hey (and node:http's own keep-alive client as a
 * baseline), measured in the same run: the same server, the same number of connections, the same
 * answer size and time each. The server runs in a process of its own (bench/load-target.ts), and so
 * does every client but node:http's, so no two share an event loop. Each round runs every tool once
 * (the order rotates between rounds); each tool's row is its median round. Prints req/s, p50 and p99
 * per tool, the client's CPU time per response (user + system: what decides throughput when other
 * work leaves little CPU), and the ratios kubelab/wrk and kubelab/hey: of the medians, and round by
 * round with their median. Only 127.0.0.1, each run bounded by --seconds.
 * Short runs in many rounds, rather than a few long ones, let each round's tools see about the same
 * machine when other work comes and goes.
 *   npm run bench:load [-- --seconds 3 --concurrency 16 --rounds 5 --body 4096]
 * wrk and hey are Debian packages; the bench installs them itself when missing (root), through the
 * same helper bootstrap.sh uses: nothing else in kubelab needs them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findTool } from '../src/cluster/tools.js';
import { runLoad } from '../src/load/generator.js';
import { LatencyRecorder } from '../src/load/latency.js';
import { assertLoopbackTarget } from '../src/load/loopback.js';
import { run } from '../src/util/exec.js';
import { packageRoot } from '../src/util/paths.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '5' },
    body: { type: 'string', default: '4096' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
const bodyBytes = Number(values.body);
const HOST = 'myapp.local';

interface Measured {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** The client's CPU time (user + system) per response: what decides throughput when CPU is scarce. */
  cpuUs: number;
  /** Failed requests and non-2xx answers, when the tool reports any. */
  problems?: string;
}

interface Tool {
  name: string;
  measure: (url: string) => Promise<Measured>;
}

async function ensureDebianTools(tools: string[]): Promise<void> {
  const missing = tools.filter((tool) => !findTool(tool));
  if (missing.length === 0) return;
  const script = 'log() { printf "bench:load: %s\\n" "$*" >&2; }; source scripts/lib/debian-packages.sh; install_debian_packages "$@"';
  await run('bash', ['-c', script, 'bench:load', ...missing], { cwd: packageRoot(), onLine: (line) => console.error(line) });
}

/** Runs a tool and reads its CPU time from bash's `times` (user and system of the shell's children, last line). */
async function runTimed(file: string, args: string[]): Promise<{ stdout: string; cpuMs: number }> {
  const { stdout } = await run('bash', ['-c', '"$@" && times', 'bench:load', file, ...args], { timeoutMs: (seconds + 30) * 1000 });
  const lines = stdout.trimEnd().split('\n');
  const children = lines.at(-1)!.match(/(\d+)m([\d.]+)s/g)!;
  const cpuMs = children.reduce((sum, time) => {
    const [, minutes, secs] = /(\d+)m([\d.]+)s/.exec(time)!;
    return sum + (Number(minutes) * 60 + Number(secs)) * 1000;
  }, 0);
  return { stdout: lines.slice(0, -2).join('\n'), cpuMs };
}

/** CPU time of this process during `work`, in ms. */
async function withCpuMs<T>(work: () => Promise<T>): Promise<[T, number]> {
  const before = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(before);
  return [result, (used.user + used.system) / 1000];
}

async function debianVersion(pkg: string): Promise<string> {
  return (await run('dpkg-query', ['-W', '-f=${Version}', pkg])).stdout;
}

/** The server under test in its own process; resolves with its port. */
async function startTarget(): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(join(fileURLToPath(new URL('.', import.meta.url)), 'load-target.js'), [String(bodyBytes)]);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve(Number(message)));
    child.once('exit', (code) => reject(new Error(`the bench's server exited with ${code} before listening`)));
  });
  return { child, port };
}

const kubelab: Tool = {
  name: 'kubelab',
  measure: async (url) => {
    const [result, cpuMs] = await withCpuMs(() => runLoad({ url, host: HOST, concurrency, durationMs: seconds * 1000 }));
    const failed = result.errors + result.completed - (result.statusCounts[200] ?? 0);
    return {
      rps: result.rps,
      p50Ms: result.latency.p50Ms,
      p99Ms: result.latency.p99Ms,
      cpuUs: (cpuMs * 1000) / result.completed,
      ...(failed ? { problems: `${failed} failed or not 200` } : {}),
    };
  },
};

/** wrk's durations: 643.00us, 1.24ms, 1.02s. */
function wrkMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!match) throw new Error(`wrk printed a latency bench:load cannot read: ${text}`);
  const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[match[2] as 'us' | 'ms' | 's' | 'm'];
  return Number(match[1]) * scale;
}

function field(output: string, pattern: RegExp, tool: string): string {
  const match = pattern.exec(output);
  if (!match?.[1]) throw new Error(`${tool}'s output has no ${pattern}:\n${output}`);
  return match[1];
}

/** wrk with one thread (one event loop, like kubelab) or with two (its default, both cores here). */
function wrk(threads: number): Tool {
  return {
    name: `wrk -t${threads}`,
    measure: async (url) => {
      const { stdout, cpuMs } = await runTimed('wrk', [`-t${threads}`, `-c${concurrency}`, `-d${seconds}s`, '--latency', '-H', `Host: ${HOST}`, url]);
      const problems = [/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[0], /Socket errors: .*/.exec(stdout)?.[0]].filter(Boolean).join('; ');
      return {
        rps: Number(field(stdout, /Requests\/sec:\s+([\d.]+)/, 'wrk')),
        p50Ms: wrkMs(field(stdout, /^\s+50%\s+(\S+)/m, 'wrk')),
        p99Ms: wrkMs(field(stdout, /^\s+99%\s+(\S+)/m, 'wrk')),
        cpuUs: (cpuMs * 1000) / Number(field(stdout, /(\d+) requests in/, 'wrk')),
        ...(problems ? { problems } : {}),
      };
    },
  };
}

const hey: Tool = {
  name: 'hey',
  measure: async (url) => {
    const { stdout, cpuMs } = await runTimed('hey', ['-c', String(concurrency), '-z', `${seconds}s`, '-host', HOST, url]);
    const statuses = [...stdout.matchAll(/\[(\d+)\]\s+(\d+) responses/g)];
    const failed = statuses.filter(([, status]) => status !== '200').reduce((sum, [, , count]) => sum + Number(count), 0);
    const errors = /Error distribution:\n((?:\s+\[\d+\].*\n?)+)/.exec(stdout)?.[1]?.trim();
    const problems = [failed ? `${failed} not 200` : '', errors ?? ''].filter(Boolean).join('; ');
    // hey prints latencies in seconds to 4 decimals: 0.1 ms steps.
    return {
      rps: Number(field(stdout, /Requests\/sec:\s+([\d.]+)/, 'hey')),
      p50Ms: Number(field(stdout, /50% in ([\d.]+) secs/, 'hey')) * 1000,
      p99Ms: Number(field(stdout, /99% in ([\d.]+) secs/, 'hey')) * 1000,
      cpuUs: (cpuMs * 1000) / statuses.reduce((sum, [, , count]) => sum + Number(count), 0),
      ...(problems ? { problems } : {}),
    };
  },
};

/** node:http's keep-alive Agent, one loop per connection, in this process (a baseline of what node's own client costs). */
const nodeHttp: Tool = {
  name: 'node:http',
  measure: async (url) => {
    const { port } = new URL(url);
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    const latency = new LatencyRecorder();
    let completed = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    const one = () =>
      new Promise<void>((resolve, reject) => {
        const sent = performance.now();
        const req = request({ host: '127.0.0.1', port, path: '/', agent, headers: { host: HOST } }, (res) => {
          res.on('data', () => undefined);
          res.on('end', () => {
            latency.record(performance.now() - sent);
            completed += 1;
            resolve();
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
    const [, cpuMs] = await withCpuMs(() =>
      Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < deadline) await one();
        }),
      ),
    );
    agent.destroy();
    const summary = latency.summary();
    return { rps: completed / ((performance.now() - started) / 1000), p50Ms: summary.p50Ms, p99Ms: summary.p99Ms, cpuUs: (cpuMs * 1000) / completed };
  },
};

/** The measurement with the median throughput (the lower middle one for an even count). */
function median(measurements: Measured[]): Measured {
  return [...measurements].sort((a, b) => a.rps - b.rps)[Math.floor((measurements.length - 1) / 2)]!;
}

await ensureDebianTools(['wrk', 'hey']);
const versions = { wrk: await debianVersion('wrk'), hey: await debianVersion('hey') };
const wrkOneThread = wrk(1);
const wrkTwoThreads = wrk(2);
const tools = [kubelab, wrkOneThread, wrkTwoThreads, hey, nodeHttp];
const { child: target, port } = await startTarget();
try {
  const url = assertLoopbackTarget(`http://127.0.0.1:${port}/`).href;
  // Warm-up: the server's and kubelab's JIT, and the server's connection handling.
  await runLoad({ url, host: HOST, concurrency, durationMs: 1000 });
  const byTool = new Map<Tool, Measured[]>(tools.map((tool) => [tool, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (let i = 0; i < tools.length; i += 1) {
      const tool = tools[(round + i) % tools.length]!;
      byTool.get(tool)!.push(await tool.measure(url));
    }
  }

  const ms = (value: number) => value.toFixed(2).padStart(7);
  console.log(
    `load generators, ${concurrency} connections, ${bodyBytes}-byte answers from node:http in its own process on 127.0.0.1, ` +
      `${seconds} s each, ${rounds} rounds (row: the median round); wrk ${versions.wrk}, hey ${versions.hey}`,
  );
  console.log(`${'tool'.padEnd(10)} ${'req/s'.padStart(8)}  ${'p50 ms'.padStart(7)}  ${'p99 ms'.padStart(7)}  ${'CPU µs/req'.padStart(10)}   req/s by round`);
  for (const [tool, measured] of byTool) {
    const m = median(measured);
    const each = measured.map((r) => r.rps.toFixed(0)).join(' ');
    const problems = measured.map((r) => r.problems).filter(Boolean);
    console.log(
      `${tool.name.padEnd(10)} ${m.rps.toFixed(0).padStart(8)}  ${ms(m.p50Ms)}  ${ms(m.p99Ms)}  ${m.cpuUs.toFixed(1).padStart(10)}   ${each}${problems.length ? `  PROBLEMS: ${problems.join(' | ')}` : ''}`,
    );
  }
  const ours = byTool.get(kubelab)!;
  for (const other of [wrkOneThread, wrkTwoThreads, hey]) {
    const theirs = byTool.get(other)!;
    const perRound = ours.map((m, round) => m.rps / theirs[round]!.rps);
    const middle = [...perRound].sort((a, b) => a - b)[Math.floor((perRound.length - 1) / 2)]!;
    console.log(
      `kubelab/${other.name}: throughput ${(median(ours).rps / median(theirs).rps).toFixed(2)}x of medians, ` +
        `${middle.toFixed(2)}x median by round (${perRound.map((r) => r.toFixed(2)).join(' ')}); ` +
        `p50 ${(median(ours).p50Ms / median(theirs).p50Ms).toFixed(2)}x, p99 ${(median(ours).p99Ms / median(theirs).p99Ms).toFixed(2)}x`,
    );
  }
  console.log('goal: kubelab/wrk throughput >= 0.8x (kubelab runs on one thread)');
} finally {
  target.kill();
}
