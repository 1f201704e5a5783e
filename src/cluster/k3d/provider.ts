import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stateDir } from '../../util/paths.js';
import { assertDockerAvailable } from '../../docker/engine.js';
import { run, runAllowingFailure } from '../../util/exec.js';
import { saveKubeconfig } from '../kubeconfig-file.js';
import { collectContainerLogs, containersWithLabel } from '../node-logs.js';
import type { ClusterProvider, ClusterSummary, CreateOptions, JoinTokenServer, ProviderCallOptions } from '../provider.js';
import type { ClusterSpec, NodeRegistry, ObservedCluster } from '../spec.js';
import { requireTool } from '../tools.js';
import { makeTempDir } from '../../util/temp.js';
import { FORGED_K3S_IMAGE, k3dCreateCommand, observeK3dCluster, parseK3dVersion, registriesYaml, type K3dCluster, type RegistryUse } from './config.js';
import { ensureMachineRegistry, MACHINE_REGISTRY_CONTAINER, networkMembers, removeNetworkUnlessUsed } from '../machine-registry.js';
import { importIntoNodes } from './images.js';

const K3D_REMEDY = 'install k3d (https://k3d.io) or run `kubelab forge` to build it';
/** Where k3d mounts the cluster's image volume in every node. */
const K3D_IMAGE_VOLUME_PATH = '/k3d/images';

export class K3dProvider implements ClusterProvider, JoinTokenServer {
  readonly name = 'k3d' as const;
  readonly tool = 'k3d';
  readonly addonsViaRegistry = true;

  private k3d(): string {
    return requireTool('k3d', K3D_REMEDY);
  }

  async ensureAvailable(): Promise<void> {
    this.k3d();
    await assertDockerAvailable();
  }

  private async clusters(options: ProviderCallOptions = {}): Promise<K3dCluster[]> {
    const { stdout } = await run(this.k3d(), ['cluster', 'list', '-o', 'json'], { signal: options.signal });
    return JSON.parse(stdout || '[]') as K3dCluster[];
  }

  /** k3d gives every node the cluster token as the label k3d.cluster.token. */
  async serverToken(name: string, options?: ProviderCallOptions): Promise<string | undefined> {
    const result = await runAllowingFailure('docker', ['inspect', '--format', '{{index .Config.Labels "k3d.cluster.token"}}', `k3d-${name}-server-0`], {
      signal: options?.signal,
    });
    const token = result.exitCode === 0 ? result.stdout.trim() : '';
    return token && token !== '<no value>' ? token : undefined;
  }

  async describe(name: string, options?: ProviderCallOptions): Promise<ObservedCluster | undefined> {
    const cluster = (await this.clusters(options)).find((c) => c.name === name);
    return cluster && observeK3dCluster(cluster);
  }

  /** k3d's default k3s image and helper versions, as printed by `k3d version`. */
  private async versions(options: ProviderCallOptions = {}): Promise<{ k3d: string; k3s: string }> {
    const { stdout } = await run(this.k3d(), ['version'], { signal: options.signal });
    return parseK3dVersion(stdout);
  }

  async nodeImages(spec: ClusterSpec, options?: ProviderCallOptions): Promise<string[]> {
    const versions = await this.versions(options);
    // k3d tags its helper images with its version without the "v"; these variables override them.
    const helperTag = versions.k3d.replace(/^v/, '');
    return [
      spec.image ?? FORGED_K3S_IMAGE,
      process.env.K3D_IMAGE_LOADBALANCER ?? `ghcr.io/k3d-io/k3d-proxy:${helperTag}`,
      process.env.K3D_IMAGE_TOOLS ?? `ghcr.io/k3d-io/k3d-tools:${helperTag}`,
    ];
  }

  /** Returns the cluster's kubeconfig, which k3d writes into a file of the create's own. */
  async create(spec: ClusterSpec, options: CreateOptions = {}): Promise<string> {
    // The nodes pull their add-ons through the registry from their first start: it must be ready first.
    const registry = await options.registry;
    // k3d writes a hosts file per node into TMPDIR and never removes it: give it a dir of ours.
    const tmp = await makeTempDir('k3d-create');
    try {
      let registryUse: RegistryUse | undefined;
      if (registry) {
        // k3d copies registries.yaml into the nodes at create; the empty dir stays mounted for the cluster's life.
        registryUse = { registry, config: join(tmp, 'registries.yaml'), emptyDir: join(stateDir(), 'empty') };
        await writeFile(registryUse.config, registriesYaml(registry));
        await mkdir(registryUse.emptyDir, { recursive: true });
      }
      const kubeconfig = join(tmp, 'kubeconfig');
      const { args, env } = k3dCreateCommand(spec, kubeconfig, registryUse);
      await run(this.k3d(), args, { signal: options.signal, onLine: options.onLine, env: { ...env, TMPDIR: tmp } });
      return await readFile(kubeconfig, 'utf8');
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  startRegistry(image: string, options?: ProviderCallOptions): Promise<NodeRegistry> {
    return ensureMachineRegistry(this.k3d(), image, options);
  }

  /** k3d connects the registry to the network of each cluster made with `--registry-use`. */
  async pullsFrom(name: string, _registry: NodeRegistry, options: ProviderCallOptions = {}): Promise<boolean> {
    return (await networkMembers(this.network(name), options))?.includes(MACHINE_REGISTRY_CONTAINER) ?? false;
  }

  deleteCommand(name: string): string {
    return `k3d cluster delete ${name}`;
  }

  async delete(name: string, options: ProviderCallOptions = {}): Promise<void> {
    // k3d's delete rewrites the default kubeconfig (dropping the cluster's entries, and the file's
    // comments and layout with them) even when it holds none of them: point it at a file of ours.
    const scratch = await makeTempDir('k3d-delete');
    try {
      // k3d removes the nodes one after another, each taking its pods down as it goes (about a second
      // a node); killed all at once first, what k3d then removes are stopped containers.
      const nodes = (await containersWithLabel(this.nodeLabel(name), options)).filter((node) => node.state === 'running').map((node) => node.name);
      if (nodes.length > 0) await runAllowingFailure('docker', ['kill', ...nodes], { signal: options.signal, ownProcessGroup: true });
      await run(this.k3d(), ['cluster', 'delete', name], {
        signal: options.signal,
        onLine: options.onLine,
        ownProcessGroup: true,
        env: { KUBECONFIG: join(scratch, 'kubeconfig') },
      });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
    // A delete cut short (the daemon restarting) can remove the nodes and leave the network, which
    // k3d, finding no cluster, then never removes.
    if (await removeNetworkUnlessUsed(this.network(name))) options.onLine?.(`removed network ${this.network(name)}, which k3d left`);
  }

  async list(options?: ProviderCallOptions): Promise<ClusterSummary[]> {
    return (await this.clusters(options)).map((cluster) => {
      const observed = observeK3dCluster(cluster);
      return { name: cluster.name, provider: this.name, servers: observed.servers, agents: observed.agents };
    });
  }

  async writeKubeconfig(name: string, options: ProviderCallOptions = {}): Promise<string> {
    const { stdout } = await run(this.k3d(), ['kubeconfig', 'get', name], { signal: options.signal });
    return saveKubeconfig(name, stdout);
  }

  contextName(name: string): string {
    return `k3d-${name}`;
  }

  async importImages(name: string, images: string[], options: ProviderCallOptions = {}): Promise<void> {
    const cluster = (await this.clusters(options)).find((c) => c.name === name);
    const nodes = (cluster?.nodes ?? []).filter((n) => n.role === 'server' || n.role === 'agent').map((n) => n.name);
    await importIntoNodes(nodes, images, { ...options, sharedDir: K3D_IMAGE_VOLUME_PATH });
  }

  nodeLabel(name: string): string {
    return `k3d.cluster=${name}`;
  }

  network(name: string): string {
    return `k3d-${name}`;
  }

  async collectLogs(name: string, dir: string, options?: ProviderCallOptions): Promise<string[]> {
    return collectContainerLogs({ label: this.nodeLabel(name) }, dir, options);
  }
}
