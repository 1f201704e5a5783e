/**
 * The forged k3s node image for real: built from source (or found current and skipped) after the
 * images it carries, then run as a single-node k3s server in a privileged container, as k3d runs it.
 * The node must become Ready (kubelet, containerd with kubelab's config template, flannel CNI), and
 * a pod must run from the pause image in its airgap tarball. Its flannel CNI plugin, driven by hand,
 * waits for the node's subnet lease instead of failing on it.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { V1Node, V1Pod, V1ServiceAccount } from '@kubernetes/client-node';
import { containerLogs, inspectImage, publishedPort, removeContainer, waitForLog } from '../../src/docker/engine.js';
import { forgeImages } from '../../src/forge/catalog.js';
import { ensureK3sNodeImage, FORGED_K3S_IMAGE, KUBELAB_K3S_NODE_INPUTS, type K3sNodeImageResult } from '../../src/forge/k3s.js';
import { connect, type Kube } from '../../src/kube/client.js';
import { waitFor } from '../../src/kube/wait.js';

const MINUTE = 60_000;
const PAUSE = 'rancher/mirrored-pause:3.6';
const name = `kubelab-it-k3s-${process.pid}`;
let image: K3sNodeImageResult;
let dir: string;
let kube: Kube;

const nodeReady = (node: V1Node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubelab-it-k3s-'));
  // What the node carries is forged first where missing (as `kubelab forge` orders it), so that a
  // missing image fails the tests below by name instead of leaving the node without it.
  await forgeImages(KUBELAB_K3S_NODE_INPUTS.airgapImages);
  // A cold build compiles k3s (about 10 min on 2 cores); later runs find the image current.
  image = await ensureK3sNodeImage(KUBELAB_K3S_NODE_INPUTS);
  console.log(
    `k3s node image: ${image.skipped ? 'current' : `built in ${(image.durationMs / 1000).toFixed(0)} s`}, ` +
      `${((image.sizeBytes ?? 0) / 1e6).toFixed(0)} MB, airgap: ${image.airgap.map((i) => i.tag).join(', ') || 'none'}`,
  );
}, 60 * MINUTE);

afterAll(async () => {
  await removeContainer(name);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the forged k3s node image', () => {
  test('is found current the second time, under its content tag and FORGED_K3S_IMAGE', async () => {
    const again = await ensureK3sNodeImage(KUBELAB_K3S_NODE_INPUTS);
    expect(again.skipped).toBe(true);
    expect(again.recipeTag).toBe(image.recipeTag);
    expect(again.recipeTag).toMatch(/^kubelab\/k3s:[0-9a-f]{12}$/);
    expect((await inspectImage(FORGED_K3S_IMAGE))?.id).toBe(image.imageId);
  }, 5 * MINUTE);

  test('runs a single-node k3s server whose node becomes Ready', async () => {
    await execa('docker', [
      'run', '--detach', '--privileged', '--name', name, '--label', 'dev.kubelab.managed=true',
      '--publish', '127.0.0.1::6443', FORGED_K3S_IMAGE,
      'server', '--disable=traefik,servicelb,metrics-server,local-storage,coredns', '--disable-helm-controller', '--tls-san=127.0.0.1',
      // Only the control plane, kubelet and CNI are under test: kubelab's Traefik (a server manifest) stays out.
      '--disable=kubelab-traefik',
    ]);
    await waitForLog(name, /k3s is up and running/, { timeoutMs: 3 * MINUTE });
    const { stdout } = await execa('docker', ['exec', name, 'cat', '/etc/rancher/k3s/k3s.yaml']);
    const port = await publishedPort(name, 6443);
    const kubeconfig = join(dir, 'kubeconfig.yaml');
    await writeFile(kubeconfig, stdout.replace(/server: https:\/\/127\.0\.0\.1:6443/, `server: https://127.0.0.1:${port}`));
    kube = connect({ kubeconfig, context: 'default' });

    const ready = await waitFor<V1Node, V1Node>(kube, {
      description: 'the k3s node to become Ready',
      target: { apiVersion: 'v1', kind: 'Node' },
      until: (nodes) => nodes.find(nodeReady),
      timeoutMs: 3 * MINUTE,
      diagnose: () => containerLogs(name, 40),
    });
    expect(ready.status?.nodeInfo?.kubeletVersion).toBe('v1.32.0+k3s1');
    expect(ready.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\/1\.7\./);
  }, 8 * MINUTE);

  test('runs a pod from the airgap images (pause) on the flannel network', async () => {
    // Every image the node was asked to carry is in it, pause (the sandbox of every pod) among them.
    expect(image.missingAirgap).toEqual([]);
    expect(image.airgap.map((i) => i.tag)).toContain(PAUSE);
    // The API refuses pods until the namespace's default service account exists.
    await waitFor<V1ServiceAccount, V1ServiceAccount>(kube, {
      description: 'the default service account',
      target: { apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'default', fieldSelector: 'metadata.name=default' },
      until: (accounts) => accounts[0],
      timeoutMs: 2 * MINUTE,
    });
    await kube.core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'pause' },
        spec: { containers: [{ name: 'pause', image: PAUSE, imagePullPolicy: 'Never' }] },
      },
    });
    const pod = await waitFor<V1Pod, V1Pod>(kube, {
      description: 'the pause pod to run',
      target: { apiVersion: 'v1', kind: 'Pod', namespace: 'default', fieldSelector: 'metadata.name=pause' },
      until: (pods) => pods.find((p) => p.status?.phase === 'Running'),
      timeoutMs: 3 * MINUTE,
      diagnose: async () => JSON.stringify((await kube.core.readNamespacedPod({ name: 'pause', namespace: 'default' })).status, null, 2),
    });
    // The pod's address comes from flannel's subnet for this node (10.42.0.0/24 on the first node).
    expect(pod.status?.podIP).toMatch(/^10\.42\.0\.\d+$/);
  }, 5 * MINUTE);
});

describe("the node image's flannel CNI plugin", () => {
  // A node container that runs nothing: the plugin is driven by hand, as containerd drives it.
  const idle = `kubelab-it-cni-${process.pid}`;
  const LEASE = 'FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.0.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n';
  const CONFIG = JSON.stringify({ cniVersion: '0.4.0', name: 'cbr0', type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } });

  beforeAll(async () => {
    await execa('docker', ['run', '--detach', '--name', idle, '--entrypoint', 'sleep', FORGED_K3S_IMAGE, 'infinity']);
  }, MINUTE);
  afterAll(() => removeContainer(idle), MINUTE);

  test('an ADD before flannel holds the lease waits for it, then runs the plugin (no "subnet.env: no such file")', async () => {
    const env = ['CNI_COMMAND=ADD', 'CNI_CONTAINERID=kubelab-it', 'CNI_NETNS=/nonexistent', 'CNI_IFNAME=eth0', 'CNI_PATH=/usr/lib/cni'];
    const add = execa('docker', ['exec', '--interactive', ...env.flatMap((e) => ['--env', e]), idle, '/usr/lib/cni/flannel'], { input: CONFIG, reject: false, all: true });
    // The script is seen waiting in the node while the lease is missing...
    const waiting = async () => (await execa('docker', ['exec', idle, 'pgrep', '-f', '/usr/lib/cni/flannel'], { reject: false })).exitCode === 0;
    while (!(await waiting())) if (add.exitCode !== null) break;
    expect(add.exitCode).toBeNull();
    // ...and goes on once flannel has written it: the plugin then fails further on, making the bridge
    // (this container may not), instead of on the missing lease.
    await execa('docker', ['exec', '--interactive', idle, 'sh', '-c', 'mkdir -p /run/flannel && cat > /run/flannel/subnet.env'], { input: LEASE });
    const result = await add;
    console.log(result.all);
    expect(result.all).not.toContain('subnet.env');
    expect(result.all).toContain('failed to create bridge');
  }, 2 * MINUTE);
});
