import type { V1Node } from '@kubernetes/client-node';
import { NODE_ARGS_ANNOTATION, parseNodeArgs } from './node-args.js';
import type { K3sArgs, NodeFacts } from './types.js';

const ROLE_LABEL_PREFIX = 'node-role.kubernetes.io/';
/** The label kubectl also reads for roles on clusters that predate node-role.kubernetes.io/*. */
const LEGACY_ROLE_LABEL = 'kubernetes.io/role';
/** Annotations that show who runs what on the node: k3s itself, its embedded etcd, flannel. */
const KEPT_ANNOTATION_PREFIXES = ['k3s.io/', 'etcd.k3s.cattle.io/', 'flannel.alpha.coreos.com/'];

/** The node's roles as kubectl shows them: every `node-role.kubernetes.io/<role>` label (any value). */
export function nodeRoles(labels: Record<string, string>): string[] {
  const roles = Object.keys(labels)
    .filter((key) => key.startsWith(ROLE_LABEL_PREFIX) && key.length > ROLE_LABEL_PREFIX.length)
    .map((key) => key.slice(ROLE_LABEL_PREFIX.length));
  const legacy = labels[LEGACY_ROLE_LABEL];
  if (legacy) roles.push(legacy);
  return [...new Set(roles)].sort();
}

function keptAnnotations(annotations: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(annotations).filter(([key]) => key !== NODE_ARGS_ANNOTATION && KEPT_ANNOTATION_PREFIXES.some((p) => key.startsWith(p))),
  );
}

function k3sArgsOf(node: V1Node): K3sArgs | undefined {
  const annotation = node.metadata?.annotations?.[NODE_ARGS_ANNOTATION];
  return annotation === undefined ? undefined : parseNodeArgs(annotation);
}

export function nodeFacts(node: V1Node): NodeFacts {
  const info = node.status?.nodeInfo;
  const labels = node.metadata?.labels ?? {};
  const k3sArgs = k3sArgsOf(node);
  return {
    name: node.metadata?.name ?? '',
    roles: nodeRoles(labels),
    ready: node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    kubeletVersion: info?.kubeletVersion ?? '',
    // Deprecated since 1.31 and often empty: kept only when the kubelet still reports it.
    ...(info?.kubeProxyVersion ? { kubeProxyVersion: info.kubeProxyVersion } : {}),
    containerRuntime: info?.containerRuntimeVersion ?? '',
    osImage: info?.osImage ?? '',
    kernel: info?.kernelVersion ?? '',
    internalIP: node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address,
    providerID: node.spec?.providerID,
    labels,
    annotations: keptAnnotations(node.metadata?.annotations ?? {}),
    ...(k3sArgs ? { k3sArgs } : {}),
  };
}

/** Nodes whose k3s process is a server (it runs the control plane) or any k3s node. */
export function k3sServers(nodes: NodeFacts[]): NodeFacts[] {
  return nodes.filter((n) => n.k3sArgs?.command === 'server');
}

export function k3sNodes(nodes: NodeFacts[]): NodeFacts[] {
  return nodes.filter((n) => n.k3sArgs !== undefined);
}
