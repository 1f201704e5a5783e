import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { assertDockerAvailable } from '../../docker/engine.js';
import { EnvironmentError } from '../../errors.js';
import { run, runAllowingFailure } from '../../util/exec.js';
import { saveKubeconfig } from '../kubeconfig-file.js';
import { collectContainerLogs, containersWithLabel, parseDockerPorts } from '../node-logs.js';
import type { ClusterProvider, ClusterSummary, CreateOptions, ProviderCallOptions } from '../provider.js';
import type { Addon, ClusterSpec, NodeRegistry, ObservedCluster, PortMapping } from '../spec.js';
import { requireTool } from '../tools.js';
import { ensureMachineRegistry, MACHINE_REGISTRY_CONTAINER, MACHINE_REGISTRY_INNER_PORT, MACHINE_REGISTRY_TOOL, removeNetworkUnlessUsed } from '../machine-registry.js';
import { FORGED_KIND_IMAGE, KUBELAB_ADDONS_DIR, kindConfig } from './config.js';
import { makeTempDir } from '../../util/temp.js';

const KIND_REMEDY = 'install kind (https://kind.sigs.k8s.io) or run `kubelab forge` to build it';
const CLUSTER_LABEL = 'io.x-k8s.kind.cluster';
const ROLE_LABEL = 'io.x-k8s.kind.role';
/**
 * The docker network of kubelab's kind clusters (kind's default, "kind", is shared with the user's
 * own clusters and never removed by kind): created by kind on first use, removed with the last one.
 */
const KUBELAB_KIND_NETWORK = 'kubelab-kind';
/** Where a node's containerd looks up how to reach the registry pods name (config_path in the node image). */
const registryHostsDir = (registry: NodeRegistry) => `/etc/containerd/certs.d/${registry.pullAs}`;
export class KindProvider implements ClusterProvider {
  readonly name = 'kind' as const;
  readonly tool = 'kind';
  /** The node image carries the add-ons (preloaded): only the lesson's images go through the registry. */
  readonly addonsViaRegistry = false;

  private kind(): string {
    return requireTool('kind', KIND_REMEDY);
  }

  async ensureAvailable(): Promise<void> {
    this.kind();
    await assertDockerAvailable();
  }

  async describe(name: string, options?: ProviderCallOptions): Promise<ObservedCluster | undefined> {
    const nodes = await containersWithLabel(this.nodeLabel(name), options);
    if (nodes.length === 0) return undefined;
    const ports: PortMapping[] = [];
    let apiPort: number | undefined;
    for (const node of nodes) {
      for (const p of parseDockerPorts(node.ports)) {
        if (p.containerPort === 6443 && node.labels[ROLE_LABEL] === 'control-plane') apiPort = p.hostPort;
        else ports.push({ hostIp: p.hostIp, hostPort: p.hostPort, containerPort: p.containerPort, nodeFilter: node.labels[ROLE_LABEL] ?? '' });
      }
    }
    const count = (role: string) => nodes.filter((n) => n.labels[ROLE_LABEL] === role).length;
    return { name, servers: count('control-plane'), agents: count('worker'), ports, apiPort };
  }

  async nodeImages(spec: ClusterSpec): Promise<string[]> {
    return [spec.image ?? FORGED_KIND_IMAGE];
  }

  async create(spec: ClusterSpec, options: CreateOptions = {}): Promise<string> {
    const dir = await makeTempDir('kind');
    try {
      const configFile = join(dir, 'kind-config.yaml');
      await writeFile(configFile, stringify(kindConfig(spec)));
      const args = ['create', 'cluster', '--name', spec.name, '--config', configFile, '--wait', '10m', '--image', spec.image ?? FORGED_KIND_IMAGE];
      // --kubeconfig keeps kind away from ~/.kube/config; what it writes there is the cluster's.
      const kubeconfig = join(dir, 'kubeconfig');
      args.push('--kubeconfig', kubeconfig);
      const kindDone = new AbortController();
      // The registry (started beside the create) is wired into the nodes while kind's kubeadm runs in
      // them: the nodes need it only from the lesson's first pull, and the join and the writes are
      // then off the create's path (0.6 s after it, measured on 2 cores).
      const nodesRunning = options.registry ? this.nodesStarted(spec, kindDone.signal) : undefined;
      const creating = run(this.kind(), args, { signal: options.signal, onLine: options.onLine, env: { KIND_EXPERIMENTAL_DOCKER_NETWORK: KUBELAB_KIND_NETWORK } }).finally(() => kindDone.abort());
      const wiring = nodesRunning && this.wireRegistry(spec.name, options.registry!, nodesRunning, creating, options);
      const [created, wired] = await Promise.allSettled([creating, wiring]);
      if (created.status === 'rejected') throw created.reason;
      if (wired.status === 'rejected') throw wired.reason;
      for (const addon of spec.addons ?? []) await this.applyAddon(spec.name, addon, options);
      return await readFile(kubeconfig, 'utf8');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  deleteCommand(name: string): string {
    return `kind delete cluster --name ${name}`;
  }

  startRegistry(image: string, options?: ProviderCallOptions): Promise<NodeRegistry> {
    return ensureMachineRegistry(requireTool(MACHINE_REGISTRY_TOOL, 'kubelab makes its registry with k3d: install k3d (https://k3d.io) or run `kubelab forge k3d`'), image, options);
  }

  /** Each node has the hosts.toml useRegistry writes. */
  async pullsFrom(name: string, registry: NodeRegistry, options: ProviderCallOptions = {}): Promise<boolean> {
    const nodes = await containersWithLabel(this.nodeLabel(name), options);
    const found = await Promise.all(nodes.map((node) =>
      runAllowingFailure('docker', ['exec', node.name, 'test', '-f', `${registryHostsDir(registry)}/hosts.toml`], { signal: options.signal }),
    ));
    return nodes.length > 0 && found.every((result) => result.exitCode === 0);
  }

  /**
   * Whether every node of `spec` started (docker's start events, from before kind runs) before
   * `until` aborted (kind ended: its nodes are up, or it failed, or was interrupted) or the event
   * stream broke.
   */
  private async nodesStarted(spec: ClusterSpec, until: AbortSignal): Promise<boolean> {
    const expected = spec.servers + spec.agents;
    const started = new Set<string>();
    const watching = new AbortController();
    const stop = () => watching.abort();
    until.addEventListener('abort', stop, { once: true });
    try {
      await runAllowingFailure(
        'docker',
        ['events', '--since', String(Math.floor(Date.now() / 1000) - 1), '--filter', 'type=container', '--filter', 'event=start', '--filter', `label=${this.nodeLabel(spec.name)}`, '--format', '{{json .Actor.Attributes}}'],
        {
          signal: watching.signal,
          readLine: (line) => {
            if (!line.startsWith('{')) return;
            const labels = JSON.parse(line) as Record<string, string>;
            // Not kind's load balancer (more than one control plane): only the nodes pull images.
            if (labels[ROLE_LABEL] !== 'control-plane' && labels[ROLE_LABEL] !== 'worker') return;
            started.add(labels.name ?? '');
            if (started.size >= expected) stop();
          },
        },
      ).catch((error: unknown) => {
        if (!watching.signal.aborted) throw error;
      });
    } finally {
      until.removeEventListener('abort', stop);
    }
    return started.size >= expected;
  }

  /** useRegistry once the nodes run and the registry does; nothing when kind failed (its error is the one that counts). */
  private async wireRegistry(cluster: string, registry: Promise<NodeRegistry>, nodesRunning: Promise<boolean>, creating: Promise<unknown>, options: ProviderCallOptions): Promise<void> {
    let kindFailed = false;
    const kindEnded = creating.then(() => undefined, () => void (kindFailed = true));
    const [running, allStarted] = await Promise.all([registry, nodesRunning]);
    // The watch ended short of every node (kind ended first, or docker's stream broke): after kind, then.
    if (!allStarted) await kindEnded;
    if (kindFailed) return;
    await this.useRegistry(cluster, running, options);
  }

  /**
   * Lets the cluster's nodes pull from the machine registry as kind's local-registry recipe does: the
   * registry joins kubelab's kind network (reached there by name on its inner port) and each node's
   * containerd gets a hosts.toml for the name pods use (the node image sets config_path to certs.d,
   * which containerd reads on each pull, so no restart).
   */
  private async useRegistry(cluster: string, registry: NodeRegistry, options: ProviderCallOptions): Promise<void> {
    const joined = await runAllowingFailure('docker', ['network', 'connect', KUBELAB_KIND_NETWORK, MACHINE_REGISTRY_CONTAINER], { signal: options.signal });
    if (joined.exitCode !== 0 && !/already exists/i.test(joined.stderr)) {
      throw new Error(`docker network connect ${KUBELAB_KIND_NETWORK} ${MACHINE_REGISTRY_CONTAINER}: ${joined.stderr.trim()}`);
    }
    const endpoint = `http://${MACHINE_REGISTRY_CONTAINER}:${MACHINE_REGISTRY_INNER_PORT}`;
    const hostsToml = `server = "${endpoint}"\n\n[host."${endpoint}"]\n  capabilities = ["pull", "resolve"]\n`;
    const dir = registryHostsDir(registry);
    const nodes = await containersWithLabel(this.nodeLabel(cluster), options);
    await Promise.all(nodes.map((node) =>
      run('docker', ['exec', '-i', node.name, 'sh', '-c', 'mkdir -p "$1" && cat > "$1/hosts.toml"', 'sh', dir], { input: hostsToml, signal: options.signal }),
    ));
    options.onLine?.(`${nodes.length} nodes pull ${registry.pullAs} from ${endpoint}`);
  }

  /**
   * Applies an add-on from the manifests the node image carries, as kind applies its storage class:
   * kubectl inside the control-plane node with the admin kubeconfig.
   */
  private async applyAddon(cluster: string, addon: Addon, options: ProviderCallOptions): Promise<void> {
    const manifest = `${KUBELAB_ADDONS_DIR}/${addon}.yaml`;
    const node = `${cluster}-control-plane`;
    const present = await runAllowingFailure('docker', ['exec', node, 'test', '-f', manifest], { signal: options.signal });
    if (present.exitCode !== 0) {
      throw new EnvironmentError(
        `the lesson needs ${addon}, but the node image of kind cluster ${cluster} carries no ${manifest}`,
        `use kubelab's node image (${FORGED_KIND_IMAGE}, from kubelab forge) or install ${addon} yourself and run kubelab verify`,
      );
    }
    options.onLine?.(`applying ${addon} (${manifest})`);
    await run('docker', ['exec', node, 'kubectl', '--kubeconfig=/etc/kubernetes/admin.conf', 'apply', '-f', manifest], { signal: options.signal });
  }

  async delete(name: string, options: ProviderCallOptions = {}): Promise<void> {
    const scratch = await makeTempDir('kind');
    try {
      await run(this.kind(), ['delete', 'cluster', '--name', name, '--kubeconfig', join(scratch, 'kubeconfig')], {
        signal: options.signal,
        ownProcessGroup: true,
        onLine: options.onLine,
      });
      // kind never removes its network; kubelab's own goes with its last cluster (while another uses it, docker refuses).
      // The machine registry outlives clusters: it leaves the network once it is the last one there.
      await removeNetworkUnlessUsed(KUBELAB_KIND_NETWORK);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  async list(options: ProviderCallOptions = {}): Promise<ClusterSummary[]> {
    const { stdout } = await run(this.kind(), ['get', 'clusters'], { signal: options.signal });
    const names = stdout.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('No kind clusters'));
    const summaries: ClusterSummary[] = [];
    for (const name of names) {
      const observed = await this.describe(name, options);
      summaries.push({ name, provider: this.name, servers: observed?.servers ?? 0, agents: observed?.agents ?? 0 });
    }
    return summaries;
  }

  async writeKubeconfig(name: string, options: ProviderCallOptions = {}): Promise<string> {
    const { stdout } = await run(this.kind(), ['get', 'kubeconfig', '--name', name], { signal: options.signal });
    return saveKubeconfig(name, stdout);
  }

  contextName(name: string): string {
    return `kind-${name}`;
  }

  async importImages(name: string, images: string[], options: ProviderCallOptions = {}): Promise<void> {
    await run(this.kind(), ['load', 'docker-image', ...images, '--name', name], {
      signal: options.signal,
      onLine: options.onLine,
    });
  }

  nodeLabel(name: string): string {
    return `${CLUSTER_LABEL}=${name}`;
  }

  network(): string {
    return KUBELAB_KIND_NETWORK;
  }

  async collectLogs(name: string, dir: string, options?: ProviderCallOptions): Promise<string[]> {
    return collectContainerLogs({ label: this.nodeLabel(name) }, dir, options);
  }
}
