import type { ClusterSpec, NodeRegistry, ObservedCluster, ProviderName } from './spec.js';

export interface ProviderCallOptions {
  signal?: AbortSignal;
  /** Live output of the underlying CLI, a line at a time. */
  onLine?: (line: string) => void;
}

export interface CreateOptions extends ProviderCallOptions {
  /**
   * The registry the nodes pull from (`--images-via registry`), started beside the create: each
   * provider awaits it where it first needs it (k3d before its create, kind once its nodes exist).
   */
  registry?: Promise<NodeRegistry>;
}

export interface ClusterSummary {
  name: string;
  provider: ProviderName;
  servers: number;
  agents: number;
}

/**
 * One seam per cluster technology. Each implementation is one folder (provider.ts drives its CLI with
 * argument arrays; config.ts turns a ClusterSpec into that CLI's terms); generic logic (reuse or
 * refuse, port checks, having the node images) lives in lab/provision.ts.
 */
export interface ClusterProvider {
  readonly name: ProviderName;
  /** The CLI it drives (k3d, kind), which kubelab can build when it is missing. */
  readonly tool: string;
  /** Throws EnvironmentError (with the remedy) when the provider's tools or docker are missing. */
  ensureAvailable(): Promise<void>;
  /** The existing cluster of that name, or undefined. */
  describe(name: string, options?: ProviderCallOptions): Promise<ObservedCluster | undefined>;
  /**
   * The images the cluster's containers run, the node image first. Provisioning has each of them
   * (local, pulled or forged, by `--pull`: images/image-source.ts) before anything is created.
   */
  nodeImages(spec: ClusterSpec, options?: ProviderCallOptions): Promise<string[]>;
  /**
   * Creates the cluster; the caller has checked it does not exist. Returns its kubeconfig when the
   * CLI wrote one while creating (kind), which then need not be asked for again.
   */
  create(spec: ClusterSpec, options?: CreateOptions): Promise<string | void>;
  /**
   * Deletes the cluster and everything it made (containers, volumes, networks), in a process the
   * terminal's Ctrl-C does not reach: a teardown is never cut half-way.
   */
  delete(name: string, options?: ProviderCallOptions): Promise<void>;
  /** The command a user runs to delete it by hand (printed when kubelab is stopped before it could). */
  deleteCommand(name: string): string;
  list(options?: ProviderCallOptions): Promise<ClusterSummary[]>;
  /** Writes the cluster's kubeconfig into kubelab's state dir (never ~/.kube) and returns the path. */
  writeKubeconfig(name: string, options?: ProviderCallOptions): Promise<string>;
  /** The kubeconfig context name that selects this cluster. */
  contextName(name: string): string;
  /**
   * The machine's registry its nodes can pull from (`--images-via registry`), running, made from
   * `image` if there is none; a provider without one imports images only.
   */
  startRegistry?(image: string, options?: ProviderCallOptions): Promise<NodeRegistry>;
  /**
   * Whether its nodes pull the add-on images (pause, CoreDNS, Traefik, ...) through that registry's
   * docker.io mirror (k3d); otherwise the node image carries them (kind) and only the lesson's go there.
   */
  readonly addonsViaRegistry?: boolean;
  /** Whether the nodes of existing cluster `name` pull from `registry` (a cluster made with `--images-via import` does not). */
  pullsFrom?(name: string, registry: NodeRegistry, options?: ProviderCallOptions): Promise<boolean>;
  /** Makes local docker images available to the cluster's container runtime. */
  importImages(name: string, images: string[], options?: ProviderCallOptions): Promise<void>;
  /** The docker label (key=value) every container of cluster `name` carries: what logs and faults select its nodes by. */
  nodeLabel(name: string): string;
  /** The docker network cluster `name`'s nodes are on (kind: one for all of kubelab's kind clusters). */
  network(name: string): string;
  /** Collects node logs into `dir` for a failed run's diagnostics; returns the files written. */
  collectLogs(name: string, dir: string, options?: ProviderCallOptions): Promise<string[]>;
}

/** A provider whose clusters run k3s: the token nodes join with opens the k3s supervisor's server-only endpoints. */
export interface JoinTokenServer {
  /** The join token of cluster `name` (e.g. for /db/info, etcd's member list on the API port). */
  serverToken(name: string, options?: ProviderCallOptions): Promise<string | undefined>;
}

export function servesJoinToken(provider: ClusterProvider): provider is ClusterProvider & JoinTokenServer {
  return typeof (provider as Partial<JoinTokenServer>).serverToken === 'function';
}
