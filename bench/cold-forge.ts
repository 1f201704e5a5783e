/**
 * The whole forge from nothing, on this machine, without touching its warm caches: a second dockerd
 * on its own bridge, with an empty image store, empty Go module and build caches and an empty
 * kubelab cache, all in one temp dir; bridge and dir are removed afterwards (also on Ctrl-C). Then
 * `kubelab forge --jobs N` builds every item (k3s and kind sides) into it.
 *   npm run bench:cold-forge [-- --jobs 3]
 * Printed: wall clock against the sum of the items' own build times in the same run (what one lane
 * would take if items did not slow each other), and the goal: the whole cold forge <= 60 min.
 * Needs root (dockerd) and most of an hour; it leaves nothing behind.
 */
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../src/util/paths.js';

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '3' } } });
const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;

const dir = await mkdtemp(join(tmpdir(), 'kubelab-cold-forge-'));
const socket = join(dir, 'docker.sock');
const env = {
  DOCKER_HOST: `unix://${socket}`,
  XDG_CACHE_HOME: join(dir, 'cache'), // kubelab's tools and forge dirs
  GOCACHE: join(dir, 'cache', 'go-build'),
  GOPATH: join(dir, 'go'), // the module cache
  GOMODCACHE: join(dir, 'go', 'pkg', 'mod'),
};
// Its own store, exec root, socket and bridge, and no iptables rules: the host's dockerd is untouched.
// (`--bridge none` would not do: dockerd then deletes the host's docker0, which the other daemon uses.)
const BRIDGE = 'kubelabcold0';
await execa('ip', ['link', 'add', 'name', BRIDGE, 'type', 'bridge']);
await execa('ip', ['addr', 'add', '172.31.254.1/24', 'dev', BRIDGE]);
await execa('ip', ['link', 'set', BRIDGE, 'up']);
const daemon = execa(
  'dockerd',
  ['--data-root', join(dir, 'docker'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'docker.pid'), '-H', env.DOCKER_HOST, '--bridge', BRIDGE, '--iptables=false', '--ip-masq=false'],
  { reject: false, stdio: ['ignore', 'ignore', 'ignore'] },
);
const stop = async () => {
  daemon.kill('SIGTERM');
  await daemon;
  await execa('ip', ['link', 'delete', BRIDGE], { reject: false });
  // The module cache is read-only by design; go itself knows how to remove it.
  await execa('go', ['clean', '-modcache'], { env, reject: false });
  await rm(dir, { recursive: true, force: true });
};
async function daemonAnswers(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // `docker version` waits on the socket itself; retried only while dockerd is still creating it.
  while ((await execa('docker', ['version'], { env, reject: false, timeout: 5000 })).exitCode !== 0) {
    if (Date.now() > deadline || daemon.exitCode !== null) throw new Error(`the bench's dockerd did not answer on ${socket} (see dockerd --debug)`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

process.once('SIGINT', () => void stop().then(() => process.exit(130)));

try {
  await daemonAnswers(30_000);

  const started = performance.now();
  const forge = await execa('node', [join(packageRoot(), 'bin', 'kubelab.js'), 'forge', '--jobs', values.jobs!], {
    env: { ...env, CI: 'true' },
    reject: false,
    all: true,
  });
  const wallMs = performance.now() - started;
  const built = [...forge.all.matchAll(/^\S+ (.+): built in ([\d.]+) s, ([\d.-]+)/gm)].map((m) => ({ name: m[1]!, seconds: Number(m[2]), size: m[3]! }));
  const sumMs = built.reduce((total, item) => total + item.seconds * 1000, 0);

  console.log(`cold forge, --jobs ${values.jobs}, empty image store and caches (exit ${forge.exitCode})`);
  for (const item of built) console.log(`  ${item.name.padEnd(26)} ${item.seconds.toFixed(1).padStart(7)} s  ${item.size} MB`);
  console.log(`  sum of the items' build times   ${minutes(sumMs)}  (baseline: one lane, no contention)`);
  console.log(`  wall clock                       ${minutes(wallMs)}  ratio ${(wallMs / sumMs).toFixed(2)}x  (goal: <= 60 min)`);
  if (forge.exitCode !== 0) console.log(forge.all.split('\n').slice(-30).join('\n'));
  process.exitCode = forge.exitCode === 0 ? 0 : 1;
} finally {
  await stop();
}
