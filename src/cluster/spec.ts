import { InputError } from '../errors.js';

/** Clusters of any other making are reached with --kubeconfig/--context (verify, inspect), not through a provider. */
export type ProviderName = 'k3d' | 'kind';

/** A host port published to a node, in k3d's words: `[HOST_IP:]HOST_PORT:CONTAINER_PORT@NODEFILTER`. */
export interface PortMapping {
  hostIp?: string;
  hostPort: number;
  containerPort: number;
  /** `loadbalancer`, `server:0`, `agent:1`... (k3d node filters; kind maps them to its nodes). */
  nodeFilter: string;
}

/** An argument passed to k3s on some nodes: k3d's `--k3s-arg "ARG@NODEFILTER"`. */
export interface NodeArg {
  arg: string;
  nodeFilter: string;
}

export interface ClusterSpec {
  provider: ProviderName;
  name: string;
  servers: number;
  agents: number;
  ports: PortMapping[];
  /** Host port of the Kubernetes API (k3d `--api-port`); random when absent. */
  apiPort?: number;
  k3sArgs: NodeArg[];
  /** Node image; the provider's default when absent. */
  image?: string;
  /**
   * Add-ons the lesson relies on beyond a bare cluster. k3s runs both by default; kubelab's kind
   * node image carries them (images and manifests) and the kind provider applies them after create.
   */
  addons?: readonly Addon[];
}

export type Addon = 'traefik' | 'metrics-server';

/**
 * A registry the cluster's nodes pull from instead of having images imported into every node:
 * kubelab pushes the lesson's images there and pods name them as `pullAs`; docker.io is mirrored to
 * it, so each add-on image is pulled by the nodes that run it.
 */
export interface NodeRegistry {
  /** As docker on this machine pushes to it: `127.0.0.1:PORT`. */
  push: string;
  /** As the nodes and the pods' image references name it: `k3d-kubelab-registry:PORT`. */
  pullAs: string;
}

/** What a provider reports about a cluster that already exists, to decide reuse or refusal. */
export interface ObservedCluster {
  name: string;
  servers: number;
  agents: number;
  ports: PortMapping[];
  apiPort?: number;
}

const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/;

export function validateClusterName(name: string, field: string): string {
  if (!CLUSTER_NAME.test(name)) {
    throw new InputError(`${field}: "${name}" is not a valid cluster name`, 'use 1-32 lowercase letters, digits and dashes');
  }
  return name;
}

export function parsePort(value: string, field: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) {
    throw new InputError(`${field}: "${value}" is not a port number (1-65535)`);
  }
  return port;
}

/** Parses k3d's port syntax, e.g. `8081:80@loadbalancer` or `127.0.0.1:8081:80@server:0`. */
export function parsePortMapping(text: string, field = '--port'): PortMapping {
  const at = text.indexOf('@');
  const mapping = at === -1 ? text : text.slice(0, at);
  const nodeFilter = at === -1 ? 'loadbalancer' : text.slice(at + 1);
  if (!nodeFilter) throw new InputError(`${field}: "${text}" has an empty node filter after @`);
  const parts = mapping.split(':');
  if (parts.length < 2 || parts.length > 3) {
    throw new InputError(`${field}: "${text}" is not HOST_PORT:CONTAINER_PORT[@NODEFILTER]`, 'e.g. 8081:80@loadbalancer');
  }
  const [hostIp, hostPort, containerPort] = parts.length === 3 ? parts : [undefined, ...parts];
  return {
    ...(hostIp ? { hostIp } : {}),
    hostPort: parsePort(hostPort!, field),
    containerPort: parsePort(containerPort!, field),
    nodeFilter,
  };
}

export function formatPortMapping(port: PortMapping): string {
  return `${port.hostIp ? `${port.hostIp}:` : ''}${port.hostPort}:${port.containerPort}@${port.nodeFilter}`;
}

export function parseNodeArg(text: string, field = '--k3s-arg'): NodeArg {
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) {
    throw new InputError(`${field}: "${text}" is not ARG@NODEFILTER`, 'e.g. --cluster-init@server:0');
  }
  return { arg: text.slice(0, at), nodeFilter: text.slice(at + 1) };
}

/**
 * Differences that make an existing cluster unusable for `spec`. Empty means it can be reused.
 * Only what the lesson depends on is compared: node counts, published ports, API port.
 */
export function clusterMismatches(spec: ClusterSpec, observed: ObservedCluster): string[] {
  const problems: string[] = [];
  if (observed.servers !== spec.servers) problems.push(`servers: want ${spec.servers}, has ${observed.servers}`);
  if (observed.agents !== spec.agents) problems.push(`agents: want ${spec.agents}, has ${observed.agents}`);
  for (const port of spec.ports) {
    const found = observed.ports.some((p) => p.hostPort === port.hostPort && p.containerPort === port.containerPort);
    if (!found) problems.push(`port ${formatPortMapping(port)} is not published`);
  }
  if (spec.apiPort !== undefined && observed.apiPort !== undefined && observed.apiPort !== spec.apiPort) {
    problems.push(`api port: want ${spec.apiPort}, has ${observed.apiPort}`);
  }
  return problems;
}

/** Host ports the cluster will bind: the published ports and the API port. */
export function hostPortsOf(spec: ClusterSpec): number[] {
  return [...spec.ports.map((p) => p.hostPort), ...(spec.apiPort ? [spec.apiPort] : [])];
}
