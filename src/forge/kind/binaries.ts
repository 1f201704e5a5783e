import { forgeCacheDir } from '../../util/paths.js';
import { join } from 'node:path';
import type { GoBuild } from '../go-build.js';
import { flannelCniBuild } from '../k3s.js';

/**
 * What a kind node runs, built from the Go module proxy: Kubernetes v1.32.9 (the last 1.32 patch
 * whose modules are all served here; 1.35+ refuses cgroup v1 hosts), etcd, containerd, crictl, the
 * CNI plugins and flannel. Versions are kubeadm v1.32's own choices where the proxy serves them.
 */
export const KUBERNETES_VERSION = 'v1.32.9';
const STAGING_VERSION = 'v0.32.9';
export const ETCD_VERSION = '3.5.16';
export const CONTAINERD_VERSION = 'v1.7.27';
export const CRICTL_VERSION = 'v1.34.0';
export const CNI_PLUGINS_VERSION = 'v1.6.2';
export const FLANNEL_VERSION = 'v0.26.7';

/**
 * k8s.io/kubernetes replaces these with its staging/ paths, which a module zip cannot resolve:
 * the wrapper points each at its published module of the same release.
 */
const STAGING_MODULES = [
  'api', 'apiextensions-apiserver', 'apimachinery', 'apiserver', 'cli-runtime', 'client-go', 'cloud-provider',
  'cluster-bootstrap', 'code-generator', 'component-base', 'component-helpers', 'controller-manager', 'cri-api',
  'cri-client', 'csi-translation-lib', 'dynamic-resource-allocation', 'endpointslice', 'externaljwt', 'kms',
  'kube-aggregator', 'kube-controller-manager', 'kube-proxy', 'kube-scheduler', 'kubectl', 'kubelet', 'metrics',
  'mount-utils', 'pod-security-admission',
] as const;

/** Unstamped binaries report v0.0.0 and kubeadm then names images it cannot find: stamp both version packages. */
function kubernetesLdflags(): string[] {
  const [major, minor] = KUBERNETES_VERSION.slice(1).split('.');
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => [
    `${pkg}.gitVersion=${KUBERNETES_VERSION}`,
    `${pkg}.gitMajor=${major}`,
    `${pkg}.gitMinor=${minor}`,
    `${pkg}.gitTreeState=clean`,
    `${pkg}.buildDate=2025-09-09T00:00:00Z`,
  ]);
}

export type KubernetesBinary = 'kubeadm' | 'kubelet' | 'kubectl' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kube-proxy';

export function kubernetesBuild(name: KubernetesBinary): GoBuild {
  return {
    name,
    module: 'k8s.io/kubernetes',
    version: KUBERNETES_VERSION,
    pkg: `k8s.io/kubernetes/cmd/${name}`,
    ldflags: kubernetesLdflags(),
    wrapper: {
      replace: Object.fromEntries(STAGING_MODULES.map((m) => [`k8s.io/${m}`, `k8s.io/${m} ${STAGING_VERSION}`])),
      // Required at v0.0.0 by k8s.io/kubernetes' go.mod, never imported by the commands; not served.
      stubs: ['k8s.io/sample-apiserver'],
    },
  };
}

/** etcd's modules replace their siblings with local paths too: both commands build in a wrapper. */
export const etcdBuild: GoBuild = {
  name: 'etcd',
  module: 'go.etcd.io/etcd/server/v3',
  version: `v${ETCD_VERSION}`,
  pkg: 'go.etcd.io/etcd/server/v3',
  wrapper: {},
};

export const etcdctlBuild: GoBuild = {
  name: 'etcdctl',
  module: 'go.etcd.io/etcd/etcdctl/v3',
  version: `v${ETCD_VERSION}`,
  pkg: 'go.etcd.io/etcd/etcdctl/v3',
  wrapper: {},
};

/** containerd as its Makefile builds it for kind (no btrfs, devmapper, zfs, aufs snapshotters). */
function containerdBuild(name: 'containerd' | 'ctr' | 'containerd-shim-runc-v2'): GoBuild {
  return {
    name,
    module: 'github.com/containerd/containerd',
    version: CONTAINERD_VERSION,
    pkg: `./cmd/${name}`,
    tags: ['no_btrfs', 'no_devmapper', 'no_zfs', 'no_aufs'],
    ldflags: [`github.com/containerd/containerd/version.Version=${CONTAINERD_VERSION}`, 'github.com/containerd/containerd/version.Package=github.com/containerd/containerd'],
  };
}

export const crictlBuild: GoBuild = {
  name: 'crictl',
  module: 'sigs.k8s.io/cri-tools',
  version: CRICTL_VERSION,
  pkg: './cmd/crictl',
  ldflags: [`sigs.k8s.io/cri-tools/pkg/version.Version=${CRICTL_VERSION}`],
};

/** kind's node carries these four; bridge is not needed by flannel's host-gw backend. */
const CNI_PLUGINS = { 'host-local': 'ipam/host-local', loopback: 'main/loopback', ptp: 'main/ptp', portmap: 'meta/portmap', bridge: 'main/bridge' } as const;

function cniPluginBuild(name: keyof typeof CNI_PLUGINS): GoBuild {
  return {
    name,
    module: 'github.com/containernetworking/plugins',
    version: CNI_PLUGINS_VERSION,
    pkg: `./plugins/${CNI_PLUGINS[name]}`,
    ldflags: [`github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=${CNI_PLUGINS_VERSION}`],
  };
}

/** flannel's daemon, the pod network of kubelab's kind nodes (kindnetd's module is not served here). */
export const flanneldBuild: GoBuild = {
  name: 'flanneld',
  module: 'github.com/flannel-io/flannel',
  version: FLANNEL_VERSION,
  // The udp backend's C proxy needs cgo (upstream builds it so too); the image is Debian, with glibc.
  cgo: true,
  ldflags: [`github.com/flannel-io/flannel/pkg/version.Version=${FLANNEL_VERSION}`],
};

/** Binaries of the node image itself, by their path in the image. */
export const NODE_BINARIES: ReadonlyArray<readonly [path: string, build: GoBuild]> = [
  ['/usr/bin/kubeadm', kubernetesBuild('kubeadm')],
  ['/usr/bin/kubelet', kubernetesBuild('kubelet')],
  ['/usr/bin/kubectl', kubernetesBuild('kubectl')],
  ['/usr/local/bin/containerd', containerdBuild('containerd')],
  ['/usr/local/bin/ctr', containerdBuild('ctr')],
  ['/usr/local/bin/containerd-shim-runc-v2', containerdBuild('containerd-shim-runc-v2')],
  ['/usr/local/bin/crictl', crictlBuild],
  ...(Object.keys(CNI_PLUGINS) as Array<keyof typeof CNI_PLUGINS>).map((name) => [`/opt/cni/bin/${name}`, cniPluginBuild(name)] as const),
  // The same flannel CNI plugin as the k3s node's (its module is served only up to v0.9.1).
  ['/opt/cni/bin/flannel', flannelCniBuild],
];

/** Built binaries are kept here (one stamp each), so that a changed image recipe reuses them. */
export function kindBinaryDir(): string {
  return join(forgeCacheDir(), `kind-${KUBERNETES_VERSION}`);
}
