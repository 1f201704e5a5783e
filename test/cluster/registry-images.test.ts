/**
 * `kubelab run lesson-1` (images via the registry, the default) on a real k3d cluster: the app image
 * is pushed once to kubelab's machine registry (k3d-kubelab-registry, the forged registry:2) and
 * pulled only by the node that runs the app's pod; the k3s add-ons (pause, CoreDNS, Traefik, ...)
 * are pulled through the registry's docker.io mirror by the nodes that run them, none imported from
 * an airgap tarball. After `kubelab down` the cluster is gone and so is the registry's container, its
 * images kept in a named volume for the next one (which pushes no layer again); `kubelab down
 * --registry` removes that volume. On kind the same registry joins kubelab's kind network and the app
 * image is again pulled only by the node that runs its pod (kind's add-ons stay in its node image).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { MACHINE_REGISTRY_CONTAINER, MACHINE_REGISTRY_DATA } from '../../src/cluster/machine-registry.js';
import { removeContainer } from '../../src/docker/engine.js';
import { packageRoot } from '../../src/util/paths.js';
import { clusterLeftovers, registryContainerExists } from '../support/leftovers.js';

const CLUSTER = 'yadoc-exposed';
const cli = join(packageRoot(), 'bin', 'kubelab.js');
const MINUTE = 60_000;

function kubelab(args: string[]) {
  return execa(process.execPath, [cli, ...args], { reject: false, env: { CI: 'true' }, all: true });
}

const registryRunning = async () => (await execa('docker', ['inspect', '--format', '{{.State.Running}}', MACHINE_REGISTRY_CONTAINER], { reject: false })).stdout === 'true';
const dataVolumeExists = async () => (await execa('docker', ['volume', 'inspect', MACHINE_REGISTRY_DATA], { reject: false })).exitCode === 0;

const kubectl = async (...args: string[]) => (await execa('kubectl', ['--kubeconfig', (await kubelab(['kubeconfig', 'lesson-1'])).stdout.trim(), ...args])).stdout;

/** The images in a node's containerd (repo tags and digests), as the kubelet sees them. */
async function nodeImages(node: string): Promise<string[]> {
  const { images } = JSON.parse((await execa('docker', ['exec', node, 'crictl', 'images', '-o', 'json'])).stdout) as { images: { repoTags: string[]; repoDigests: string[] }[] };
  return images.flatMap((image) => [...image.repoTags, ...image.repoDigests]);
}

/** Node name -> the pods' images running on it, from the API server. */
async function podsByNode(): Promise<Map<string, string[]>> {
  const pods = JSON.parse(await kubectl('get', 'pods', '-A', '-o', 'json')) as { items: { spec: { nodeName?: string; containers: { image: string }[] } }[] };
  const byNode = new Map<string, string[]>();
  for (const pod of pods.items) {
    if (!pod.spec.nodeName) continue;
    byNode.set(pod.spec.nodeName, [...(byNode.get(pod.spec.nodeName) ?? []), ...pod.spec.containers.map((c) => c.image)]);
  }
  return byNode;
}

/** Whether the machine had kubelab's registry before this test: one the test made, it removes. */
let registryBefore = true;

beforeAll(async () => {
  registryBefore = await registryContainerExists();
});

afterAll(async () => {
  await kubelab(['down', 'lesson-1']);
  await kubelab(['down', 'lesson-1', '--provider', 'kind']);
  if (!registryBefore) await removeContainer(MACHINE_REGISTRY_CONTAINER);
}, 5 * MINUTE);

describe('lesson 1 with its images through the machine registry', () => {
  let nodes: string[] = [];

  test('a cluster made with --images-via import is not reused through the registry: exit 2 naming why, the cluster left as it was, no registry left running', async () => {
    expect((await kubelab(['run', 'lesson-1', '--images-via', 'import', '--keep'])).exitCode).toBe(0);
    const result = await kubelab(['run', 'lesson-1']);
    expect(result.all).toMatch(new RegExp(`cluster ${CLUSTER} exists but its nodes do not pull from ${MACHINE_REGISTRY_CONTAINER}:\\d+ \\(it was made with --images-via import\\)`));
    expect(result.exitCode).toBe(2);
    expect((await execa('docker', ['ps', '--filter', `label=k3d.cluster=${CLUSTER}`, '--format', '{{.Names}}'])).stdout.split('\n')).toHaveLength(5);
    expect(await registryRunning()).toBe(false);
    expect((await kubelab(['down', 'lesson-1'])).exitCode).toBe(0);
  }, 10 * MINUTE);

  test('runs green, the app image pushed to the registry and pinned by digest', async () => {
    const result = await kubelab(['run', 'lesson-1', '--keep']);
    console.log(result.all);
    expect(result.all).toContain("push images to the nodes' registry");
    expect(result.all).not.toMatch(/import images into/);
    expect(result.exitCode).toBe(0);
    const image = await kubectl('get', 'deployment', 'myapp', '-o', 'jsonpath={.spec.template.spec.containers[0].image}');
    expect(image).toMatch(new RegExp(`^${MACHINE_REGISTRY_CONTAINER}:\\d+/kubelab/myapp@sha256:[0-9a-f]{64}$`));
    nodes = (await execa('docker', ['ps', '--filter', `label=k3d.cluster=${CLUSTER}`, '--filter', 'label=k3d.role', '--format', '{{.Names}} {{.Label "k3d.role"}}'])).stdout
      .split('\n')
      .filter((line) => / (server|agent)$/.test(line))
      .map((line) => line.split(' ')[0]!);
    expect(nodes).toHaveLength(4);
  }, 10 * MINUTE);

  test('each image is only on the nodes whose pods run it: the app on one node of four, the add-ons where they run', async () => {
    const running = await podsByNode();
    const app = (await kubectl('get', 'deployment', 'myapp', '-o', 'jsonpath={.spec.template.spec.containers[0].image}')).split('@')[1]!;
    const coredns = 'docker.io/rancher/mirrored-coredns-coredns:1.12.0';
    const holders = { app: [] as string[], coredns: [] as string[] };
    for (const node of nodes) {
      const images = await nodeImages(node);
      if (images.some((ref) => ref.endsWith(`@${app}`))) holders.app.push(node);
      if (images.includes(coredns)) holders.coredns.push(node);
      // Nothing came from an airgap tarball: k3s found none to import.
      expect((await execa('docker', ['exec', node, 'ls', '-A', '/var/lib/rancher/k3s/agent/images'])).stdout).toBe('');
    }
    const runners = (match: (image: string) => boolean) => [...running].filter(([, images]) => images.some(match)).map(([node]) => node).sort();
    expect(holders.app.sort()).toEqual(runners((image) => image.endsWith(`@${app}`)));
    expect(holders.app).toHaveLength(1);
    expect(holders.coredns.sort()).toEqual(runners((image) => image.includes('mirrored-coredns-coredns')));
  }, 2 * MINUTE);

  test("down deletes the cluster and the registry's container, the registry's images kept", async () => {
    const result = await kubelab(['down', 'lesson-1']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`stopped registry ${MACHINE_REGISTRY_CONTAINER} (its images kept)`);
    expect(await clusterLeftovers(CLUSTER)).toEqual([]);
    expect(await registryContainerExists()).toBe(false);
    expect(await dataVolumeExists()).toBe(true);
  }, 5 * MINUTE);

  test('on kind: lesson 1 green through a new registry container that already holds the app (no layer pushed again), the app pulled only by the node running its pod; down leaves no node, no kind network, no registry container', async () => {
    const result = await kubelab(['run', 'lesson-1', '--provider', 'kind', '--keep']);
    console.log(result.all);
    expect(result.exitCode).toBe(0);
    expect(result.all).toContain("push images to the nodes' registry");
    const toolLog = await readFile(/tool output: (\S+)/.exec(result.all)![1]!, 'utf8');
    expect(toolLog).toMatch(/docker push \S+\/kubelab\/myapp:latest/);
    expect(toolLog).toMatch(/: Layer already exists$/m);
    expect(toolLog).not.toMatch(/: Pushed$/m);
    const image = await kubectl('get', 'deployment', 'myapp', '-o', 'jsonpath={.spec.template.spec.containers[0].image}');
    expect(image).toMatch(new RegExp(`^${MACHINE_REGISTRY_CONTAINER}:\\d+/kubelab/myapp@sha256:[0-9a-f]{64}$`));
    const digest = image.split('@')[1]!;
    const kindNodes = (await execa('docker', ['ps', '--filter', `label=io.x-k8s.kind.cluster=${CLUSTER}`, '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean);
    expect(kindNodes).toHaveLength(4);
    const holders: string[] = [];
    for (const node of kindNodes) if ((await nodeImages(node)).some((ref) => ref.endsWith(`@${digest}`))) holders.push(node);
    const runners = [...(await podsByNode())].filter(([, images]) => images.includes(image)).map(([node]) => node);
    expect(holders).toEqual(runners);
    expect(holders).toHaveLength(1);

    expect((await kubelab(['down', 'lesson-1', '--provider', 'kind'])).exitCode).toBe(0);
    expect((await execa('docker', ['ps', '-a', '--filter', `label=io.x-k8s.kind.cluster=${CLUSTER}`, '--format', '{{.Names}}'])).stdout).toBe('');
    expect((await execa('docker', ['network', 'ls', '--filter', 'name=^kubelab-kind$', '--format', '{{.Name}}'])).stdout).toBe('');
    expect(await registryContainerExists()).toBe(false);
  }, 15 * MINUTE);

  test("down --registry removes the registry's images (its volume); asked again, it says there is none", async () => {
    const result = await kubelab(['down', '--registry']);
    expect(result.all).toBe(`removed registry ${MACHINE_REGISTRY_CONTAINER}`);
    expect(result.exitCode).toBe(0);
    expect(await dataVolumeExists()).toBe(false);
    expect((await kubelab(['down', '--registry'])).all).toBe(`no registry ${MACHINE_REGISTRY_CONTAINER}: nothing to remove`);
  }, 2 * MINUTE);
});
