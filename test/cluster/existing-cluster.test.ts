/**
 * `kubelab run lesson-1 --kubeconfig F --registry R` into a cluster kubelab did not make: a k3d
 * cluster created here with k3d itself, as the course's command has it, beside a local registry (the
 * forged registry:2) that its nodes mirror "127.0.0.1:PORT" to, as k3d's and kind's local-registry
 * recipes do. The run must pass, and the cluster must hold exactly the objects it held before (by
 * uid), the user's own untouched (same resourceVersion). A second run while the first's objects are
 * kept is refused, naming them, and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { FORGED_K3S_IMAGE } from '../../src/cluster/k3d/config.js';
import { MANAGED_LABEL } from '../../src/docker/engine.js';
import { connect, type Kube } from '../../src/kube/client.js';
import { waitFor } from '../../src/kube/wait.js';
import { packageRoot, toolsDir } from '../../src/util/paths.js';
import { clusterObjects } from '../support/cluster-objects.js';
import { clusterLeftovers } from '../support/leftovers.js';
import { startLocalRegistry, type LocalRegistry } from '../support/local-registry.js';

const MINUTE = 60_000;
const cli = join(packageRoot(), 'bin', 'kubelab.js');
const CLUSTER = 'kubelab-it-theirs';
const NETWORK = `kubelab-it-theirs-${process.pid}`;
const k3d = join(toolsDir(), 'k3d');
let dir: string;
let kubeconfig: string;
let registry: LocalRegistry | undefined;
let kube: Kube;
let config: KubeConfig;

/** The user's own objects, which the run must not change: name -> resourceVersion. */
async function usersObjects(): Promise<Record<string, string | undefined>> {
  const [inDefault, inTheirs] = await Promise.all([
    kube.core.readNamespacedConfigMap({ name: 'users-settings', namespace: 'default' }),
    kube.core.readNamespacedConfigMap({ name: 'users-settings', namespace: 'theirs' }),
  ]);
  return { 'default/users-settings': inDefault.metadata?.resourceVersion, 'theirs/users-settings': inTheirs.metadata?.resourceVersion };
}

function kubelabRun(...flags: string[]) {
  return execa(process.execPath, [cli, 'run', 'lesson-1', '--kubeconfig', kubeconfig, '--registry', registry!.hostPort, ...flags], { reject: false, all: true, env: { CI: 'true' } });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubelab-it-theirs-'));
  await execa('docker', ['network', 'create', '--label', `${MANAGED_LABEL}=true`, NETWORK]);
  registry = await startLocalRegistry(`${NETWORK}-registry`, { network: NETWORK });
  // containerd in the nodes: "127.0.0.1:PORT" (what docker here pushes to and pods name) is the registry container on the cluster's network.
  const registries = join(dir, 'registries.yaml');
  await writeFile(registries, `mirrors:\n  "${registry.hostPort}":\n    endpoint:\n      - http://${registry.container}:5000\n`);
  await execa(k3d, [
    'cluster', 'create', CLUSTER, '--agents', '3', '-p', '8081:80@loadbalancer', '--image', FORGED_K3S_IMAGE,
    '--network', NETWORK, '--registry-config', registries,
    '--kubeconfig-update-default=false', '--kubeconfig-switch-context=false', '--wait', '--timeout', '300s',
  ], { env: { TMPDIR: dir } }); // k3d leaves a hosts file per node in TMPDIR
  kubeconfig = join(dir, 'kubeconfig.yaml');
  await writeFile(kubeconfig, (await execa(k3d, ['kubeconfig', 'get', CLUSTER])).stdout);
  await chmod(kubeconfig, 0o600);
  config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  kube = connect({ kubeconfig, context: config.getCurrentContext() });
  // The cluster at rest before the first listing: every add-on pod of k3s ready (or, for an install job's, done).
  await waitFor<V1Pod, true>(kube, {
    description: "k3s's add-on pods to be ready",
    target: { apiVersion: 'v1', kind: 'Pod', namespace: 'kube-system' },
    until: (pods) =>
      pods.length > 0 && pods.every((pod) => pod.status?.phase === 'Succeeded' || pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) ? true : undefined,
    timeoutMs: 5 * MINUTE,
  });
  await kube.core.createNamespace({ body: { metadata: { name: 'theirs' } } });
  for (const namespace of ['default', 'theirs']) {
    await kube.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'users-settings' }, data: { owner: 'the user' } } });
  }
}, 10 * MINUTE);

afterAll(async () => {
  await execa(k3d, ['cluster', 'delete', CLUSTER], { reject: false, env: { TMPDIR: dir } });
  await registry?.remove();
  await execa('docker', ['network', 'rm', NETWORK], { reject: false });
  await rm(dir, { recursive: true, force: true });
}, 5 * MINUTE);

describe('run lesson-1 --kubeconfig --registry into a k3d cluster made without kubelab', () => {
  let before: string[];
  let users: Record<string, string | undefined>;

  test('passes, pushing its image, and leaves exactly the objects that were there', async () => {
    before = await clusterObjects(config);
    users = await usersObjects();
    const result = await kubelabRun();
    console.log(`${before.length} objects in the cluster before the run\n${result.all}`);
    expect(result.all).toMatch(/7 passed, 0 failed/);
    expect(result.all).toContain(`push images to ${registry!.hostPort}`);
    expect(result.exitCode).toBe(0);
    expect(await clusterObjects(config)).toEqual(before);
    expect(await usersObjects()).toEqual(users);
  }, 10 * MINUTE);

  test('a run while objects it would create exist is refused naming them, and changes nothing', async () => {
    const kept = await kubelabRun('--keep');
    expect(kept.exitCode).toBe(0);
    // The pod runs the pushed image by digest: it came through the registry, not from an import.
    const pod = (await kube.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=myapp' })).items[0];
    expect(pod?.spec?.containers[0]?.image).toMatch(new RegExp(`^${registry!.hostPort.replace(/\./g, '\\.')}/kubelab/myapp@sha256:[0-9a-f]{64}$`));
    const withKept = await clusterObjects(config);

    const refused = await kubelabRun();
    console.log(refused.all);
    expect(refused.all).toMatch(/already has Deployment default\/myapp, Ingress default\/myapp-ingress, Service default\/myapp-service, which lesson-1 applies/);
    expect(refused.all).not.toMatch(/build images|push images/);
    expect(refused.exitCode).toBe(3);
    expect(await clusterObjects(config)).toEqual(withKept);
    expect(await usersObjects()).toEqual(users);

    for (const name of ['myapp', 'myapp-service', 'myapp-ingress']) expect(withKept.some((line) => line.includes(` default/${name} `))).toBe(true);
  }, 10 * MINUTE);

  test('the cluster itself is left standing: its five containers (server, three agents, load balancer)', async () => {
    expect((await clusterLeftovers(CLUSTER)).filter((line) => line.startsWith('container'))).toHaveLength(5);
  });
});
