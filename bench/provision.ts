/**
 * kubelab's provisioning against the provider's bare CLI, measured in the same run on this machine,
 * each to every node Ready (1 server or control-plane, 1 agent or worker, the forged node image):
 * - bare: what a user types, `k3d cluster create NAME --agents 1 --image ... --wait` (into the
 *   kubeconfig KUBECONFIG names: the bench's own) or
 *   `kind create cluster --config (2 nodes) --image ... --wait 10m`, then a Node watch;
 * - kubelab: provisionCluster (port checks, the node image's forge status, the provider's config,
 *   create, a kubeconfig in kubelab's state dir), then the same watch; both ways images reach the
 *   nodes: through the machine registry (the default: the registry started, the add-ons pushed to
 *   it or found there, the nodes mirroring docker.io to it) and by import.
 * Besides the ratio, its 95% bootstrap interval (kind's create swings by seconds from run to run, in
 * how soon its kubelets report Ready) and the time kubelab spends outside the provider's create,
 * against the bare time: the overhead itself, which that swing does not blur.
 * Rounds go through every order of the sides (bench/stats.ts) so that the machine's drift and each
 * delete's aftermath hit all alike: 6 rounds or a multiple of 6 balance them fully.
 *   npm run bench:provision [-- --provider k3d|kind|both] [--rounds 6]
 * Goal: kubelab's overhead over the bare CLI at most 5%.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { V1Node } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { FORGED_K3S_IMAGE } from '../src/cluster/k3d/config.js';
import { FORGED_KIND_IMAGE } from '../src/cluster/kind/config.js';
import { removeKubeconfig } from '../src/cluster/kubeconfig-file.js';
import { providerFor } from '../src/cluster/registry.js';
import { requireTool } from '../src/cluster/tools.js';
import type { ClusterSpec, ProviderName } from '../src/cluster/spec.js';
import { connect } from '../src/kube/client.js';
import { waitFor } from '../src/kube/wait.js';
import { provisionCluster } from '../src/lab/provision.js';
import { CleanupStack } from '../src/util/cleanup.js';
import { run } from '../src/util/exec.js';
import { median, ratioInterval, roundOrder } from './stats.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '6' }, provider: { type: 'string', default: 'both' } } });
const rounds = Number(values.rounds);
const providers: ProviderName[] = values.provider === 'both' ? ['k3d', 'kind'] : [values.provider as ProviderName];
const signal = new AbortController().signal;
const NAME = 'kubelab-bench-provision';

async function allNodesReady(kubeconfig: string, context: string, count: number): Promise<void> {
  await waitFor<V1Node, true>(connect({ kubeconfig, context }), {
    description: `${count} nodes Ready`,
    target: { apiVersion: 'v1', kind: 'Node' },
    until: (nodes) => (nodes.length === count && nodes.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) ? true : undefined),
    timeoutMs: 10 * 60_000,
    signal,
  });
}

/** The bare CLI's create, into a kubeconfig of the bench's own; returns the context it made. */
async function bareCreate(provider: ProviderName, dir: string, kubeconfig: string): Promise<string> {
  if (provider === 'k3d') {
    const k3d = requireTool('k3d', 'kubelab forge k3d');
    // k3d writes the cluster's kubeconfig where KUBECONFIG says, as it would into the user's; it
    // leaves a hosts file per node in TMPDIR: both the bench's own dir, removed after.
    await run(k3d, ['cluster', 'create', NAME, '--agents', '1', '--image', FORGED_K3S_IMAGE, '--wait'], { env: { TMPDIR: dir, KUBECONFIG: kubeconfig } });
    return `k3d-${NAME}`;
  }
  const config = join(dir, 'config.yaml');
  // The same kubeadm patch kubelab writes for its node image (CoreDNS's tag): both create the same cluster.
  await writeFile(config, stringify({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', kubeadmConfigPatches: ['kind: ClusterConfiguration\ndns:\n  imageTag: v1.12.0\n'], nodes: [{ role: 'control-plane' }, { role: 'worker' }] }));
  // On kubelab's network, as kubelab's own run: both start from the same docker state.
  await run(requireTool('kind', 'kubelab forge kind'), ['create', 'cluster', '--name', NAME, '--config', config, '--image', FORGED_KIND_IMAGE, '--wait', '10m', '--kubeconfig', kubeconfig], {
    env: { KIND_EXPERIMENTAL_DOCKER_NETWORK: 'kubelab-kind' },
  });
  return `kind-${NAME}`;
}

async function bare(provider: ProviderName): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'kubelab-bench-provision-'));
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    const started = performance.now();
    await allNodesReady(kubeconfig, await bareCreate(provider, dir, kubeconfig), 2);
    return performance.now() - started;
  } finally {
    await providerFor(provider).delete(NAME);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * kubelab's provisioning, to every node Ready, and the part of it spent outside the provider's
 * create (the cluster lookup, the node image's status, the registry's images, the kubeconfig): the
 * overhead itself, which the CLI's own swing from round to round (several percent for kind) does
 * not blur. The provider's create is its CLI and, on kind, the nodes' registry hosts.toml after it
 * (a network connect and one docker exec per node): that much of kubelab's work counts as the CLI's.
 */
async function throughKubelab(provider: ProviderName, viaRegistry: boolean): Promise<{ ms: number; outsideCreateMs: number }> {
  const spec: ClusterSpec = { provider, name: NAME, servers: 1, agents: 1, ports: [], k3sArgs: [] };
  const cleanup = new CleanupStack();
  const timed = providerFor(provider);
  const create = timed.create.bind(timed);
  let createMs = 0;
  timed.create = async (...args) => {
    const started = performance.now();
    try {
      return await create(...args);
    } finally {
      createMs = performance.now() - started;
    }
  };
  try {
    const started = performance.now();
    const { access } = await provisionCluster(timed, spec, cleanup, { keep: false, signal, viaRegistry });
    const provisionMs = performance.now() - started;
    await allNodesReady(access.kubeconfig, access.context, 2);
    return { ms: performance.now() - started, outsideCreateMs: provisionMs - createMs };
  } finally {
    const failures = await cleanup.runAll();
    await removeKubeconfig(NAME);
    // A side that left its cluster would hand the next one a cluster to refuse: stop here, saying why.
    if (failures.length > 0) throw new Error(`cleanup after kubelab (${viaRegistry ? 'registry' : 'import'}) failed:\n${failures.join('\n')}`);
  }
}

for (const provider of providers) {
  const times = { bare: [] as number[], registry: [] as number[], import: [] as number[] };
  const outside = { registry: [] as number[], import: [] as number[] };
  const kubelabSide = (side: keyof typeof outside) => async () => {
    const { ms, outsideCreateMs } = await throughKubelab(provider, side === 'registry');
    outside[side].push(outsideCreateMs);
    return ms;
  };
  const sides: Array<[keyof typeof times, () => Promise<number>]> = [
    ['bare', () => bare(provider)],
    ['registry', kubelabSide('registry')],
    ['import', kubelabSide('import')],
  ];
  for (let round = 1; round <= rounds; round += 1) {
    for (const [side, measure] of roundOrder(sides, round)) times[side].push(await measure());
    const last = (side: keyof typeof times) => `${(times[side].at(-1)! / 1000).toFixed(1)} s`;
    console.log(`${provider} round ${round}: bare ${last('bare')}, kubelab (registry) ${last('registry')}, kubelab (import) ${last('import')}`);
  }
  console.log(`${provider}: create to all nodes Ready (1 server, 1 agent), ${rounds} rounds, medians:`);
  console.log(`  bare ${provider} CLI        ${(median(times.bare) / 1000).toFixed(1)} s`);
  for (const side of ['registry', 'import'] as const) {
    const ratio = median(times[side]) / median(times.bare);
    const [low, high] = ratioInterval(times[side], times.bare);
    const own = median(outside[side]);
    console.log(
      `  kubelab (${side.padEnd(8)})  ${(median(times[side]) / 1000).toFixed(1)} s   ratio ${ratio.toFixed(3)}x (95% interval ${low.toFixed(3)}-${high.toFixed(3)})  ` +
        `overhead ${((ratio - 1) * 100).toFixed(1)}% (goal: <= 5%); outside the create ${(own / 1000).toFixed(2)} s, ${((own / median(times.bare)) * 100).toFixed(1)}% of bare`,
    );
  }
}
