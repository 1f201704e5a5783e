import { stringify } from 'yaml';
import { InputError } from '../../errors.js';
import { COREDNS_VERSION } from '../../forge/addons.js';
import type { ClusterSpec, PortMapping } from '../spec.js';

// kind's side of a ClusterSpec: the cluster config (kind.x-k8s.io/v1alpha4) and kubeadm's patches.

/**
 * kind has no load balancer node: `@loadbalancer` and `server:N` ports go to control-plane N,
 * `agent:N` to worker N (where the lesson pins its ingress controller with hostPorts).
 */
function nodeIndexFor(port: PortMapping, spec: ClusterSpec): { role: 'control-plane' | 'worker'; index: number } {
  const [kind = '', indexText = '0'] = port.nodeFilter.split(':');
  const index = Number(indexText);
  if (kind === 'loadbalancer' || kind === 'server') {
    if (index < spec.servers) return { role: 'control-plane', index };
  } else if (kind === 'agent' && index < spec.agents) {
    return { role: 'worker', index };
  }
  throw new InputError(`cluster.ports: node filter "${port.nodeFilter}" matches no kind node of ${spec.name}`);
}

/**
 * The node image kind runs unless the lesson names one: the one `kubelab forge` makes (nothing is
 * pulled). It carries CoreDNS at the version forged for k3s, which kubeadm must be told.
 */
export const FORGED_KIND_IMAGE = 'kubelab/kind-node:v1.32.9';
/** Where kubelab's kind node image keeps the manifests of the add-ons lessons may ask for. */
export const KUBELAB_ADDONS_DIR = '/kind/manifests/kubelab';

/** kubeadm ClusterConfiguration (v1beta3, as kind v0.31 writes it for Kubernetes 1.32) changes `spec` needs. */
function kubeadmPatches(spec: ClusterSpec): { kubeadmConfigPatches?: string[] } {
  const patch: Record<string, unknown> = {};
  if ((spec.image ?? FORGED_KIND_IMAGE) === FORGED_KIND_IMAGE) patch.dns = { imageTag: COREDNS_VERSION };
  // As k3s does: the aggregator reaches metrics-server at its endpoints. Through the Service's
  // ClusterIP, kube-apiserver v1.32.9 in these nodes answered 404 for metrics.k8s.io (measured).
  if (spec.addons?.includes('metrics-server')) patch.apiServer = { extraArgs: { 'enable-aggregator-routing': 'true' } };
  return Object.keys(patch).length ? { kubeadmConfigPatches: [stringify({ kind: 'ClusterConfiguration', ...patch })] } : {};
}

/** The kind cluster config (kind.x-k8s.io/v1alpha4) that realises `spec`. */
export function kindConfig(spec: ClusterSpec): Record<string, unknown> {
  if (spec.k3sArgs.length > 0) {
    throw new InputError(`cluster.k3sArgs: kind clusters take no k3s arguments (${spec.k3sArgs[0]!.arg})`, 'use provider k3d');
  }
  const nodes = [
    ...Array.from({ length: spec.servers }, () => ({ role: 'control-plane', extraPortMappings: [] as unknown[] })),
    ...Array.from({ length: spec.agents }, () => ({ role: 'worker', extraPortMappings: [] as unknown[] })),
  ];
  for (const port of spec.ports) {
    const { role, index } = nodeIndexFor(port, spec);
    const node = nodes[role === 'control-plane' ? index : spec.servers + index]!;
    node.extraPortMappings.push({
      containerPort: port.containerPort,
      hostPort: port.hostPort,
      listenAddress: port.hostIp ?? '0.0.0.0',
      protocol: 'TCP',
    });
  }
  return {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    ...(spec.apiPort ? { networking: { apiServerAddress: '127.0.0.1', apiServerPort: spec.apiPort } } : {}),
    ...kubeadmPatches(spec),
    nodes: nodes.map((node) => (node.extraPortMappings.length ? node : { role: node.role })),
  };
}

