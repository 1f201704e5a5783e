import { run, runAllowingFailure } from '../util/exec.js';
import { saveKubeconfig } from './kubeconfig-file.js';
import { assertDockerAvailable } from '../docker/engine.js';
import type { ClusterProvider, ClusterSummary, ProviderCallOptions } from './provider.js';
import { formatPortMapping, type ClusterSpec, type ObservedCluster, type PortMapping } from './spec.js';
import { requireTool } from './tools.js';
import { collectContainerLogs } from './node-logs.js';
import { importIntoNodes } from './node-images.js';

/** The subset of `k3d cluster list -o json` kubelab reads. */
interface K3dNode {
  name: string;
  role: string;
  portMappings?: Record<string, { HostIp?: string; HostPort?: string }[] | null>;
}
interface K3dCluster {
  name: string;
  nodes?: K3dNode[];
}

const K3D_REMEDY = 'install k3d (https://k3d.io) or run `kubelab forge` to build it';
const API_CONTAINER_PORT = 6443;
/** Where k3d mounts the cluster's image volume in every node. */
const K3D_IMAGE_VOLUME_PATH = '/k3d/images';
/**
 * The node image k3d runs unless --image says otherwise: the one `kubelab forge` names (nothing is
 * pulled; with a registry, `docker pull rancher/k3s:TAG` and pass it with --image).
 */
export const FORGED_K3S_IMAGE = 'kubelab/k3s:v1.32.0-k3s1';

/** Published ports of the load balancer (or the server, without one), read back from k3d's JSON. */
export function observeK3dCluster(cluster: K3dCluster): ObservedCluster {
  const nodes = cluster.nodes ?? [];
  const count = (role: string) => nodes.filter((n) => n.role === role).length;
  const ports: PortMapping[] = [];
  let apiPort: number | undefined;
  for (const node of nodes) {
    for (const [key, bindings] of Object.entries(node.portMappings ?? {})) {
      const containerPort = Number(key.split('/')[0]);
      for (const binding of bindings ?? []) {
        const hostPort = Number(binding.HostPort);
        if (!hostPort) continue;
        if (containerPort === API_CONTAINER_PORT && node.role !== 'agent') apiPort = hostPort;
        else ports.push({ hostIp: binding.HostIp || undefined, hostPort, containerPort, nodeFilter: node.role });
      }
    }
  }
  return { name: cluster.name, servers: count('server'), agents: count('agent'), ports, apiPort };
}

/** k3d's CLI arguments for `spec`; the user's kubeconfig is never updated nor switched. */
export function k3dCreateArgs(spec: ClusterSpec): string[] {
  const args = ['cluster', 'create', spec.name, '--servers', String(spec.servers), '--agents', String(spec.agents)];
  for (const port of spec.ports) args.push('-p', formatPortMapping(port));
  if (spec.apiPort) args.push('--api-port', String(spec.apiPort));
  for (const k3sArg of spec.k3sArgs) args.push('--k3s-arg', `${k3sArg.arg}@${k3sArg.nodeFilter}`);
  args.push('--image', spec.image ?? FORGED_K3S_IMAGE);
  args.push('--kubeconfig-update-default=false', '--kubeconfig-switch-context=false', '--wait', '--timeout', '600s');
  return args;
}

/** Reads `k3d version`: "k3d version v5.9.0" and "k3s version v1.31.5-k3s1 (default)". */
export function parseK3dVersion(output: string): { k3d: string; k3s: string } {
  const k3d = /^k3d version (\S+)/m.exec(output)?.[1];
  const k3s = /^k3s version (\S+)/m.exec(output)?.[1];
  if (!k3d || !k3s) throw new Error(`cannot read the versions from \`k3d version\`: ${output.trim()}`);
  return { k3d, k3s };
}

export class K3dProvider implements ClusterProvider {
  readonly name = 'k3d' as const;
  readonly tool = 'k3d';

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

  async create(spec: ClusterSpec, options: ProviderCallOptions = {}): Promise<void> {
    await run(this.k3d(), k3dCreateArgs(spec), { signal: options.signal, onLine: options.onLine });
  }

  deleteCommand(name: string): string {
    return `k3d cluster delete ${name}`;
  }

  async delete(name: string, options: ProviderCallOptions = {}): Promise<void> {
    await run(this.k3d(), ['cluster', 'delete', name], { signal: options.signal, onLine: options.onLine, ownProcessGroup: true });
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

  async collectLogs(name: string, dir: string, options?: ProviderCallOptions): Promise<string[]> {
    return collectContainerLogs({ label: `k3d.cluster=${name}` }, dir, options);
  }
}
