import type { ClusterAccess } from '../kube/client.js';

/**
 * How a fact was learned, in words that name the source: an API path and its answer, a label or
 * an annotation and the node carrying it, or the documented default that applies when nothing says otherwise.
 */
export type Evidence = string;

/** A k3s process's arguments as k3s records them in the node annotation `k3s.io/node-args`. */
export interface K3sArgs {
  /** `server` or `agent`. */
  command: string;
  flags: K3sFlag[];
}

export interface K3sFlag {
  /** With its dashes, e.g. `--cluster-init`. */
  name: string;
  /** Absent for a boolean flag; k3s writes `********` for secrets (token, datastore endpoint). */
  value?: string;
}

export interface ApiServerFacts {
  /** The URL the kubeconfig points at. */
  server: string;
  gitVersion: string;
  platform: string;
  /** `k3s` when /version carries k3s's build suffix (`v1.32.0+k3s1`). */
  distribution: 'k3s' | 'other';
  evidence: Evidence[];
}

export interface NodeFacts {
  name: string;
  roles: string[];
  ready: boolean;
  kubeletVersion: string;
  kubeProxyVersion?: string;
  containerRuntime: string;
  osImage: string;
  kernel: string;
  internalIP?: string;
  providerID?: string;
  labels: Record<string, string>;
  /** The annotations k3s, its embedded etcd and flannel write (other annotations are left out). */
  annotations: Record<string, string>;
  /** Absent on nodes that k3s did not start (kind, kubeadm, managed clusters). */
  k3sArgs?: K3sArgs;
}

export interface ContainerFacts {
  name: string;
  image: string;
  repository: string;
  /** `latest` when the image names none; absent when it is pinned by digest only. */
  tag?: string;
  digest?: string;
  command: string[];
  args: string[];
}

export interface PodFacts {
  name: string;
  namespace: string;
  node?: string;
  phase: string;
  /** `Kind/name` of the controller that made it, e.g. `ReplicaSet/coredns-7f4b…`. */
  owner?: string;
  labels: Record<string, string>;
  containers: ContainerFacts[];
}

export interface LeaseFacts {
  name: string;
  holder?: string;
  /** Label kubernetes.io/hostname: an API server's identity lease names the host it runs on. */
  hostname?: string;
}

/**
 * Where a component runs: inside the k3s process, as a child process k3s starts, as a pod, not at
 * all (a flag turned it off), or unknown (no pod and no k3s to attribute it to).
 */
/**
 * `static-pod`: a kubelet runs it from a manifest file (kubeadm, kind), the API shows its mirror pod;
 * `node-service`: a service of each node outside Kubernetes (the kubelet, the container runtime).
 */
export type Placement = 'in-process' | 'child-process' | 'static-pod' | 'pod' | 'node-service' | 'not-running' | 'unknown';

export interface ComponentFacts {
  name: string;
  placement: Placement;
  /** Nodes whose k3s process runs it (in-process and child-process). */
  nodes: string[];
  /** kube-system pods that are this component (placement `pod` or `static-pod`). */
  pods: string[];
  evidence: Evidence[];
}

export interface HealthCheck {
  name: string;
  ok: boolean;
  /** The text after the check name: `ok`, `failed: reason withheld`, `excluded: ok`. */
  detail: string;
}

export interface HealthReport {
  path: string;
  status: number;
  checks: HealthCheck[];
  /** The closing line, e.g. `readyz check passed`. */
  summary: string;
}

export interface EtcdMember {
  name: string;
  /** The node it runs on, when known. */
  node?: string;
  address?: string;
  /** etcd's member ID (decimal, as k3s's /db/info prints it). */
  id?: string;
  peerURLs?: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

export type DatastoreKind = 'embedded-etcd' | 'kine-sqlite' | 'external' | 'etcd-pods' | 'unknown';

export interface DatastoreFacts {
  kind: DatastoreKind;
  description: string;
  members: EtcdMember[];
  /** Where the member list came from. */
  membersSource?: string;
  evidence: Evidence[];
}

export interface IngressClassFacts {
  name: string;
  controller: string;
  isDefault: boolean;
}

export interface WorkloadFacts {
  kind: 'Deployment' | 'DaemonSet';
  namespace: string;
  name: string;
  images: string[];
  /** Ready over desired pods, e.g. `1/1`. */
  ready: string;
  /** The IngressClass it serves and the label selector that tied them. */
  matchedBy: string;
}

export interface IngressFacts {
  classes: IngressClassFacts[];
  controllers: WorkloadFacts[];
  evidence: Evidence[];
}

export interface CoreDnsFacts {
  configMap: string;
  corefile?: string;
  /** The ConfigMap's other keys, e.g. k3s's `NodeHosts`. */
  otherKeys: string[];
  evidence: Evidence[];
}

export interface KubeProxyMode {
  node: string;
  mode: string;
  learnedFrom: Evidence;
}

/** Everything `kubelab inspect` learned about a cluster's control plane, as data (`--json` prints it). */
export interface ControlPlaneReport {
  access: ClusterAccess;
  apiServer: ApiServerFacts;
  nodes: NodeFacts[];
  components: ComponentFacts[];
  /** kube-system pods. */
  pods: PodFacts[];
  leases: LeaseFacts[];
  health: { livez: HealthReport; readyz: HealthReport };
  datastore: DatastoreFacts;
  ingress: IngressFacts;
  coredns: CoreDnsFacts;
  kubeProxy: KubeProxyMode[];
}
