/**
 * The forge and forged clusters, measured on this machine:
 * - warm forge (everything cached) against a baseline measured in the same run: inspecting each
 *   forged image and tool directly (the least any up-to-date check can cost);
 * - the size of each forged artifact and the disk the Docker image store uses;
 * - k3d cluster create (1 server, 3 agents) to all nodes Ready, with forged images.
 *   npm run bench:forge [-- --skip-cluster]
 * A cold forge (empty Go cache, no images) takes most of an hour on 2 cores; it is measured by
 * hand (`docker rmi` the forged tags, remove the Go caches, `time kubelab forge`), not here.
 */
import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { V1Node } from '@kubernetes/client-node';
import { K3dProvider } from '../src/cluster/k3d/provider.js';
import { removeKubeconfig } from '../src/cluster/kubeconfig-file.js';
import type { ClusterSpec } from '../src/cluster/spec.js';
import { inspectImage } from '../src/docker/engine.js';
import { forgeItems } from '../src/forge/catalog.js';
import { forge } from '../src/forge/forge.js';
import { DEFAULT_FORGE_JOBS } from '../src/forge/queue.js';
import { connect } from '../src/kube/client.js';
import { waitFor } from '../src/kube/wait.js';
import { run } from '../src/util/exec.js';

const { values } = parseArgs({ options: { 'skip-cluster': { type: 'boolean', default: false } } });
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const items = forgeItems();
const signal = new AbortController().signal;

// Baseline: the direct checks of each artifact (image inspect, file stat), no recipe hashing.
const locations = await Promise.all(items.map(async (item) => (await item.status()).location));
const baselineStart = performance.now();
for (const location of locations) {
  if (location.startsWith('/')) await stat(location).catch(() => undefined);
  else await inspectImage(location);
}
const baselineMs = performance.now() - baselineStart;

const warmStart = performance.now();
const outcomes = await forge(items.map((item) => item.name), { force: false, jobs: DEFAULT_FORGE_JOBS, signal, output: 'silent' });
const warmMs = performance.now() - warmStart;
const failed = outcomes.filter((o) => o.error);
const built = outcomes.filter((o) => o.result && !o.result.skipped);

console.log(`forge, ${items.length} items`);
console.log(`  baseline (inspect each artifact)  ${seconds(baselineMs)}`);
console.log(`  warm forge (all cached)           ${seconds(warmMs)}  ratio ${(warmMs / baselineMs).toFixed(1)}x  (goal: under 10 s)`);
if (built.length > 0) console.log(`  note: ${built.map((o) => o.item.name).join(', ')} were not current and got built in this run`);
for (const o of failed) console.log(`  FAILED ${o.item.name}: ${o.error!.message.split('\n')[0]}`);
console.log('sizes');
for (const item of items) {
  const status = await item.status();
  console.log(`  ${item.name.padEnd(24)} ${((status.sizeBytes ?? 0) / 1e6).toFixed(1).padStart(8)} MB  ${status.location}`);
}
const df = await run('docker', ['system', 'df', '--format', '{{.Type}} {{.Size}}']);
console.log(`docker store: ${df.stdout.split('\n').join('; ')}`);

if (!values['skip-cluster']) {
  const provider = new K3dProvider();
  const spec: ClusterSpec = { provider: 'k3d', name: 'kubelab-bench', servers: 1, agents: 3, ports: [], k3sArgs: [] };
  const started = performance.now();
  try {
    await provider.create(spec, { signal });
    const created = performance.now() - started;
    const kubeconfig = await provider.writeKubeconfig(spec.name);
    const kube = connect({ kubeconfig, context: provider.contextName(spec.name) });
    await waitFor<V1Node, true>(kube, {
      description: '4 nodes Ready',
      target: { apiVersion: 'v1', kind: 'Node' },
      until: (nodes) =>
        nodes.length === 4 && nodes.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) ? true : undefined,
      timeoutMs: 5 * 60_000,
    });
    console.log(`k3d cluster create (1 server, 3 agents, forged images): k3d returned after ${seconds(created)}, all 4 nodes Ready after ${seconds(performance.now() - started)}`);
  } finally {
    await provider.delete(spec.name).catch(() => undefined);
    await removeKubeconfig(spec.name);
  }
}
