/**
 * kind through kubelab against bare kind, measured in the same run on this machine:
 * - baseline: `kind create cluster --wait 10m --image kubelab/kind-node:...` (the CLI alone) with a
 *   config of 1 control-plane and 1 worker, to every node Ready (kind's --wait covers the
 *   control plane; the Node watch adds the worker);
 * - kubelab: `kubelab up lesson-4`'s provisioning (port checks, the forge status of the node image,
 *   the kind config kubelab writes, create, kubeconfig in kubelab's state dir) to every node Ready.
 * Rounds alternate (bare, kubelab, bare, kubelab...) so that the machine's drift hits both alike.
 *   npm run bench:kind [-- --rounds 2]
 * Goal: kubelab's overhead over bare kind at most 5%.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { V1Node } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { FORGED_KIND_IMAGE } from '../src/cluster/kind/config.js';
import { KindProvider } from '../src/cluster/kind/provider.js';
import { removeKubeconfig } from '../src/cluster/kubeconfig-file.js';
import { requireTool } from '../src/cluster/tools.js';
import type { ClusterSpec } from '../src/cluster/spec.js';
import { connect } from '../src/kube/client.js';
import { waitFor } from '../src/kube/wait.js';
import { provisionCluster } from '../src/lab/provision.js';
import { CleanupStack } from '../src/util/cleanup.js';
import { run } from '../src/util/exec.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '2' } } });
const rounds = Number(values.rounds);
const signal = new AbortController().signal;
const NAME = 'kubelab-bench-kind';
const provider = new KindProvider();
const spec: ClusterSpec = { provider: 'kind', name: NAME, servers: 1, agents: 1, ports: [], k3sArgs: [] };

async function allNodesReady(kubeconfig: string, context: string, count: number): Promise<void> {
  await waitFor<V1Node, true>(connect({ kubeconfig, context }), {
    description: `${count} nodes Ready`,
    target: { apiVersion: 'v1', kind: 'Node' },
    until: (nodes) => (nodes.length === count && nodes.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) ? true : undefined),
    timeoutMs: 10 * 60_000,
    signal,
  });
}

async function bare(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'kubelab-bench-kind-'));
  try {
    const config = join(dir, 'config.yaml');
    // The same kubeadm patch kubelab writes for its node image (CoreDNS's tag): both create the same cluster.
    await writeFile(config, stringify({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', kubeadmConfigPatches: ['kind: ClusterConfiguration\ndns:\n  imageTag: v1.12.0\n'], nodes: [{ role: 'control-plane' }, { role: 'worker' }] }));
    const kubeconfig = join(dir, 'kubeconfig');
    const started = performance.now();
    // On kubelab's network, as kubelab's own run: both start from the same docker state, and the
    // provider's delete below removes it.
    await run(requireTool('kind', 'kubelab forge kind'), ['create', 'cluster', '--name', NAME, '--config', config, '--image', FORGED_KIND_IMAGE, '--wait', '10m', '--kubeconfig', kubeconfig], {
      env: { KIND_EXPERIMENTAL_DOCKER_NETWORK: 'kubelab-kind' },
    });
    await allNodesReady(kubeconfig, `kind-${NAME}`, 2);
    return performance.now() - started;
  } finally {
    await provider.delete(NAME);
    await rm(dir, { recursive: true, force: true });
  }
}

async function throughKubelab(): Promise<number> {
  const cleanup = new CleanupStack();
  try {
    const started = performance.now();
    const { access } = await provisionCluster(provider, spec, cleanup, { keep: false, signal });
    await allNodesReady(access.kubeconfig, access.context, 2);
    return performance.now() - started;
  } finally {
    await cleanup.runAll();
    await removeKubeconfig(NAME);
  }
}

const bareTimes: number[] = [];
const kubelabTimes: number[] = [];
for (let round = 1; round <= rounds; round += 1) {
  bareTimes.push(await bare());
  kubelabTimes.push(await throughKubelab());
  console.log(`round ${round}: bare kind ${(bareTimes.at(-1)! / 1000).toFixed(1)} s, through kubelab ${(kubelabTimes.at(-1)! / 1000).toFixed(1)} s`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ratio = median(kubelabTimes) / median(bareTimes);
console.log(`kind create to all nodes Ready (1 control-plane, 1 worker, ${FORGED_KIND_IMAGE}), ${rounds} rounds, medians:`);
console.log(`  bare kind create --wait   ${(median(bareTimes) / 1000).toFixed(1)} s`);
console.log(`  through kubelab           ${(median(kubelabTimes) / 1000).toFixed(1)} s   ratio ${ratio.toFixed(3)}x  overhead ${((ratio - 1) * 100).toFixed(1)}% (goal: <= 5%)`);
