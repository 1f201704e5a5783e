/**
 * `kubelab inspect` against a real k3d cluster from the forged node image: one server, no agent,
 * embedded etcd (--cluster-init), the API on a port k3d picks and no other host port. The report's
 * facts are checked against what that cluster is; then the cluster is deleted and nothing of it remains.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { V1IngressClass, V1Node, V1Pod } from '@kubernetes/client-node';
import { K3dProvider } from '../../src/cluster/k3d/provider.js';
import { healthLine } from '../../src/inspect/health.js';
import type { ControlPlaneReport } from '../../src/inspect/types.js';
import { connect } from '../../src/kube/client.js';
import { waitFor } from '../../src/kube/wait.js';
import { provisionCluster } from '../../src/lab/provision.js';
import { CleanupStack } from '../../src/util/cleanup.js';
import { packageRoot } from '../../src/util/paths.js';

// Not a lesson's name: lesson clusters (and their ports) may be in use by other tests.
const CLUSTER = 'kubelab-inspect-test';
const CONTEXT = `k3d-${CLUSTER}`;
const SERVER_NODE = `k3d-${CLUSTER}-server-0`;
const cli = join(packageRoot(), 'bin', 'kubelab.js');
const MINUTE = 60_000;
const provider = new K3dProvider();
const cleanup = new CleanupStack();
let home: string;
let kubeconfig: string;

function kubelab(args: string[]) {
  return execa(process.execPath, [cli, ...args], { reject: false, env: { CI: 'true', KUBELAB_HOME: home }, timeout: 2 * MINUTE });
}

async function clusterContainers(): Promise<string[]> {
  const { stdout } = await execa('docker', ['ps', '-a', '--filter', `label=k3d.cluster=${CLUSTER}`, '--format', '{{.Names}}']);
  return stdout.split('\n').filter(Boolean);
}

/** A port nothing listens on: the OS hands out a free one, which is closed again at once. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'kubelab-inspect-home-'));
  // The kubeconfig k3d writes goes to kubelab's state dir: this test's own, not the user's.
  process.env.KUBELAB_HOME = home;
  await provider.ensureAvailable();
  // A cluster of this name can only be a leftover of an interrupted run of this test.
  if (await provider.describe(CLUSTER)) await provider.delete(CLUSTER);
  const { access } = await provisionCluster(
    provider,
    { provider: 'k3d', name: CLUSTER, servers: 1, agents: 0, ports: [], k3sArgs: [{ arg: '--cluster-init', nodeFilter: 'server:0' }] },
    cleanup,
    { keep: false, onLine: (line) => process.stdout.write(`${line}\n`) },
  );
  kubeconfig = access.kubeconfig;
  const kube = connect(access);
  // k3d --wait returns once the server is up; k3s then deploys its add-ons and records its etcd
  // member on the node. Watched until there, never slept on.
  await Promise.all([
    waitFor<V1Pod, true>(kube, {
      description: 'a Running CoreDNS pod',
      target: { apiVersion: 'v1', kind: 'Pod', namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' },
      until: (pods) => (pods.some((p) => p.status?.phase === 'Running') ? true : undefined),
      timeoutMs: 8 * MINUTE,
    }),
    waitFor<V1Node, true>(kube, {
      description: 'the etcd member annotation on the server node',
      target: { apiVersion: 'v1', kind: 'Node' },
      until: (nodes) => (nodes.some((n) => n.metadata?.annotations?.['etcd.k3s.cattle.io/node-name']) ? true : undefined),
      timeoutMs: 8 * MINUTE,
    }),
    waitFor<V1IngressClass, true>(kube, {
      description: 'the traefik IngressClass',
      target: { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass' },
      until: (classes) => (classes.some((c) => c.metadata?.name === 'traefik') ? true : undefined),
      timeoutMs: 8 * MINUTE,
    }),
  ]);
}, 20 * MINUTE);

afterAll(async () => {
  const failures = await cleanup.runAll();
  if (home) await rm(home, { recursive: true, force: true });
  expect(failures).toEqual([]);
  expect(await clusterContainers()).toEqual([]);
}, 5 * MINUTE);

describe('kubelab inspect on a real k3s cluster with embedded etcd', () => {
  let report: ControlPlaneReport;

  test('--json: the report as data', async () => {
    const result = await kubelab(['inspect', '--kubeconfig', kubeconfig, '--json']);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    report = JSON.parse(result.stdout) as ControlPlaneReport;
    expect(report.access).toEqual({ kubeconfig, context: CONTEXT });
  });

  test('the API server and the node are k3s v1.32, the node a control-plane and etcd server started with --cluster-init', () => {
    expect(report.apiServer).toMatchObject({ gitVersion: 'v1.32.0+k3s1', distribution: 'k3s' });
    expect(report.nodes).toHaveLength(1);
    const [node] = report.nodes;
    expect(node).toMatchObject({ name: SERVER_NODE, ready: true, kubeletVersion: 'v1.32.0+k3s1', k3sArgs: { command: 'server' } });
    expect(node!.roles).toEqual(expect.arrayContaining(['control-plane', 'etcd']));
    expect(node!.k3sArgs!.flags).toContainEqual({ name: '--cluster-init' });
    expect(node!.containerRuntime).toMatch(/^containerd:\/\/.*-k3s/);
  });

  test('the datastore is embedded etcd with at least one member, on the server node', () => {
    expect(report.datastore.kind).toBe('embedded-etcd');
    expect(report.datastore.members.length).toBeGreaterThanOrEqual(1);
    expect(report.datastore.members[0]).toMatchObject({ node: SERVER_NODE, name: expect.stringMatching(new RegExp(`^${SERVER_NODE}-[0-9a-f]{8}$`)) });
    expect(report.datastore.evidence).toContain('label node-role.kubernetes.io/etcd=true on ' + SERVER_NODE);
    expect(report.components.find((c) => c.name === 'etcd (embedded)')).toMatchObject({ placement: 'in-process', nodes: [SERVER_NODE] });
  });

  test('the control plane runs inside the k3s server process: no pod, and the scheduler lease held from the server node', () => {
    const placement = Object.fromEntries(report.components.map((c) => [c.name, c.placement]));
    expect(placement).toMatchObject({
      'kube-apiserver': 'in-process',
      'kube-scheduler': 'in-process',
      'kube-controller-manager': 'in-process',
      'cloud-controller-manager': 'in-process',
      kubelet: 'in-process',
      'kube-proxy': 'in-process',
      flannel: 'in-process',
      containerd: 'child-process',
    });
    const scheduler = report.components.find((c) => c.name === 'kube-scheduler')!;
    expect(scheduler.nodes).toEqual([SERVER_NODE]);
    expect(scheduler.evidence).toContainEqual(expect.stringMatching(new RegExp(`^Lease kube-system/kube-scheduler is held by ${SERVER_NODE}_`)));
  });

  test('CoreDNS runs as a pod whose image carries a version tag, configured by its Corefile', () => {
    const coredns = report.pods.find((p) => p.labels['k8s-app'] === 'kube-dns');
    expect(coredns).toMatchObject({ namespace: 'kube-system', node: SERVER_NODE, phase: 'Running' });
    expect(coredns!.containers[0]).toMatchObject({ repository: expect.stringContaining('coredns'), tag: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    expect(report.coredns.corefile).toMatch(/kubernetes cluster\.local/);
    expect(report.coredns.otherKeys).toContain('NodeHosts');
  });

  test('/livez and /readyz answer 200 with their checks, ping and etcd among them', () => {
    expect(report.health.livez.status).toBe(200);
    expect(report.health.readyz.status).toBe(200);
    expect(report.health.readyz.summary).toBe('readyz check passed');
    expect(report.health.readyz.checks.map(healthLine)).toEqual(expect.arrayContaining(['[+]ping ok', '[+]etcd ok']));
  });

  test("Traefik is the default IngressClass, served by kubelab's Deployment; kube-proxy uses k3s's default mode", () => {
    expect(report.ingress.classes).toContainEqual({ name: 'traefik', controller: 'traefik.io/ingress-controller', isDefault: true });
    expect(report.ingress.controllers).toContainEqual(
      expect.objectContaining({ kind: 'Deployment', namespace: 'kube-system', name: 'traefik', images: ['rancher/mirrored-library-traefik:3.5.3'] }),
    );
    expect(report.kubeProxy).toEqual([{ node: SERVER_NODE, mode: 'iptables', learnedFrom: expect.stringMatching(/^k3s default: /) }]);
  });

  test('the text report: every section, each verdict with its evidence', async () => {
    const result = await kubelab(['inspect', '--kubeconfig', kubeconfig]);
    console.log(result.stdout);
    expect(result.exitCode).toBe(0);
    const text = result.stdout;
    expect(text).toContain(`Control plane of context ${CONTEXT} (https://`);
    expect(text).toMatch(new RegExp(`COMPONENTS INSIDE THE K3S PROCESS \\(no pod\\)\\n(.*\\n)*  kube-scheduler +${SERVER_NODE}\\n {6}· no kube-system pod is kube-scheduler`));
    expect(text).toMatch(new RegExp(`  etcd \\(embedded\\) +${SERVER_NODE}`));
    expect(text).toMatch(/KUBE-SYSTEM PODS\n {2}POD +NODE +PHASE +CONTAINER +IMAGE +TAG\n/);
    expect(text).toMatch(/ coredns +\S*coredns +\d+\.\d+\.\d+\n/);
    expect(text).toMatch(/\/readyz {2}HTTP 200, readyz check passed\n(.*\n)* {6}\[\+\]ping ok/);
    expect(text).toContain('DATASTORE\n  embedded etcd, 1 member(s), inside the k3s server process');
    expect(text).toMatch(new RegExp(`KUBE-PROXY MODE\\n  ${SERVER_NODE} +iptables +k3s default: `));
  });

  test('--name finds the kubelab cluster through k3d, as verify does', async () => {
    const result = await kubelab(['inspect', '--name', CLUSTER, '--json']);
    expect(result.exitCode).toBe(0);
    expect((JSON.parse(result.stdout) as ControlPlaneReport).access).toEqual({ kubeconfig: join(home, 'kubeconfigs', `${CLUSTER}.yaml`), context: CONTEXT });
  });

  test('a context the kubeconfig lacks is bad input: exit 2', async () => {
    const result = await kubelab(['inspect', '--kubeconfig', kubeconfig, '--context', 'no-such-context']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`--context: "no-such-context" is not in ${kubeconfig} (contexts: ${CONTEXT})`);
  });

  test('an API server that does not answer: exit 3, naming the server, context and kubeconfig', async () => {
    const port = await closedPort();
    const unreachable = join(home, 'unreachable.yaml');
    await writeFile(unreachable, (await readFile(kubeconfig, 'utf8')).replace(/server: https:\/\/\S+/, `server: https://127.0.0.1:${port}`));
    const result = await kubelab(['inspect', '--kubeconfig', unreachable]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain(`cannot reach the API server https://127.0.0.1:${port} (context ${CONTEXT} in ${unreachable}): connect ECONNREFUSED`);
  });
});
