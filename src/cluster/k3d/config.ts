import { formatPortMapping, type ClusterSpec, type NodeRegistry, type ObservedCluster, type PortMapping } from '../spec.js';

// k3d's side of a ClusterSpec: its CLI arguments, and what its JSON says about a cluster.

/** The subset of `k3d cluster list -o json` kubelab reads. */
export interface K3dNode {
  name: string;
  role: string;
  portMappings?: Record<string, { HostIp?: string; HostPort?: string }[] | null>;
}
export interface K3dCluster {
  name: string;
  nodes?: K3dNode[];
}

const API_CONTAINER_PORT = 6443;
/**
 * The node image k3d runs unless --image says otherwise: the one `kubelab forge` names. Provisioning
 * may run rancher/k3s of the same version in its place when that is what `--pull` finds
 * (images/upstream-k3s.ts).
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

/** Where k3s imports airgap tarballs at boot: kubelab's node image carries the add-ons' there. */
export const K3S_AIRGAP_DIR = '/var/lib/rancher/k3s/agent/images';

/** The registry a cluster's nodes pull from, with the files its create needs (written by the provider). */
export interface RegistryUse {
  registry: NodeRegistry;
  /** registries.yaml mirroring docker.io to the registry. */
  config: string;
  /** An empty directory mounted over the airgap dir: the add-ons are pulled, not imported by every node. */
  emptyDir: string;
}

/** registries.yaml for the nodes: docker.io pulled through the registry (k3d adds its own name's entry). */
export function registriesYaml(registry: NodeRegistry): string {
  const container = registry.pullAs.split(':')[0];
  return `mirrors:\n  docker.io:\n    endpoint:\n      - http://${container}:5000\n`;
}

/**
 * k3d's create for `spec`: its arguments and the environment they need. k3d writes the cluster's
 * kubeconfig into the file KUBECONFIG names, `kubeconfig` here, and never into the user's (nor
 * switches its context): one process fewer than a `k3d kubeconfig get` after it (0.18 s measured).
 */
export function k3dCreateCommand(spec: ClusterSpec, kubeconfig: string, registryUse?: RegistryUse): { args: string[]; env: { KUBECONFIG: string } } {
  const args = ['cluster', 'create', spec.name, '--servers', String(spec.servers), '--agents', String(spec.agents)];
  for (const port of spec.ports) args.push('-p', formatPortMapping(port));
  if (spec.apiPort) args.push('--api-port', String(spec.apiPort));
  for (const k3sArg of spec.k3sArgs) args.push('--k3s-arg', `${k3sArg.arg}@${k3sArg.nodeFilter}`);
  args.push('--image', spec.image ?? FORGED_K3S_IMAGE);
  if (registryUse) {
    args.push('--registry-use', registryUse.registry.pullAs, '--registry-config', registryUse.config, '-v', `${registryUse.emptyDir}:${K3S_AIRGAP_DIR}@all`);
  }
  args.push('--kubeconfig-update-default=true', '--kubeconfig-switch-context=false', '--wait', '--timeout', '600s');
  return { args, env: { KUBECONFIG: kubeconfig } };
}

/** Reads `k3d version`: "k3d version v5.9.0" and "k3s version v1.31.5-k3s1 (default)". */
export function parseK3dVersion(output: string): { k3d: string; k3s: string } {
  const k3d = /^k3d version (\S+)/m.exec(output)?.[1];
  const k3s = /^k3s version (\S+)/m.exec(output)?.[1];
  if (!k3d || !k3s) throw new Error(`cannot read the versions from \`k3d version\`: ${output.trim()}`);
  return { k3d, k3s };
}

