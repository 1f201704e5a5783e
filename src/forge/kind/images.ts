import { goBuildSource, type GoBuild } from '../go-build.js';
import { ensureGoBinaryNoted, goBuildIdentity } from '../go-tool.js';
import { busyboxFiles, busyboxRootFiles, helperItem, PATH_ENV, type HelperImage } from '../small-images.js';
import type { ForgeItem, ForgeOptions } from '../types.js';
import type { RecipeFile } from '../../images/base.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../util/paths.js';
import { ETCD_VERSION, etcdBuild, etcdctlBuild, FLANNEL_VERSION, flanneldBuild, kindBinaryDir, KUBERNETES_VERSION, kubernetesBuild, type KubernetesBinary } from './binaries.js';

/**
 * The images kubeadm and kind's default add-ons run, under the names kubeadm v1.32 gives them, so
 * that containerd in the node finds them preloaded and never pulls.
 */

async function binaryFile(build: GoBuild, path: string, options: ForgeOptions): Promise<RecipeFile> {
  const built = await ensureGoBinaryNoted(build, kindBinaryDir(), options);
  return { path, source: { file: built.location, identity: goBuildIdentity(build) }, mode: 0o755 };
}

/** kube-apiserver, kube-controller-manager and kube-scheduler: one static binary each, as upstream's distroless images. */
function controlPlaneImage(name: Exclude<KubernetesBinary, 'kubeadm' | 'kubelet' | 'kubectl' | 'kube-proxy'>): HelperImage {
  const build = kubernetesBuild(name);
  return {
    name,
    tag: `registry.k8s.io/${name}:${KUBERNETES_VERSION}`,
    sources: goBuildSource(build),
    estimateSeconds: 120,
    identity: `${goBuildIdentity(build)}; scratch; /usr/local/bin`,
    async recipe(options) {
      return {
        repository: `kubelab/${name}`,
        suite: 'bookworm',
        variant: 'scratch',
        packages: [],
        files: [await binaryFile(build, `/usr/local/bin/${name}`, options)],
        changes: [PATH_ENV],
      };
    },
  };
}

/**
 * kube-proxy and flanneld write iptables rules in the node's network namespace, next to the
 * kubelet's and the CNI plugins': they must use the backend (legacy or nft) the node uses, which
 * kind's entrypoint picked from the rules present. The wrapper picks the same way, as upstream's
 * distroless-iptables image does.
 */
const IPTABLES_COMMANDS = ['iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore'];

async function iptablesWrapper(): Promise<{ files: RecipeFile[]; symlinks: Array<[string, string]> }> {
  const text = await readFile(join(packageRoot(), 'forge', 'kind', 'iptables-wrapper'), 'utf8');
  return {
    files: [{ path: '/usr/sbin/iptables-wrapper', source: { text }, mode: 0o755 }],
    symlinks: IPTABLES_COMMANDS.map((command) => [`/usr/sbin/${command}`, 'iptables-wrapper']),
  };
}

const IPTABLES_PACKAGES = ['iptables', 'conntrack', 'ipset', 'kmod'];

/** A binary that writes iptables rules in the node's network namespace, on Debian with the wrapper. */
function iptablesImage(image: { name: string; tag: string; build: GoBuild; binaryPath: string; entrypoint?: boolean }): HelperImage {
  const debian = `debian bookworm ${IPTABLES_PACKAGES.join(' ')}`;
  return {
    name: image.name,
    tag: image.tag,
    sources: `${goBuildSource(image.build)}, ${debian}`,
    estimateSeconds: 150,
    identity: `${goBuildIdentity(image.build)}; ${debian}; iptables-wrapper v1`,
    async recipe(options) {
      const wrapper = await iptablesWrapper();
      return {
        repository: `kubelab/${image.name}`,
        suite: 'bookworm',
        variant: 'minbase',
        packages: IPTABLES_PACKAGES,
        symlinks: wrapper.symlinks,
        files: [await binaryFile(image.build, image.binaryPath, options), ...wrapper.files],
        changes: [PATH_ENV, ...(image.entrypoint ? [`ENTRYPOINT ["${image.binaryPath}"]`] : [])],
      };
    },
  };
}

/** Upstream's etcd image has a shell, etcd and etcdctl: the course execs `etcdctl` in it. */
export const ETCD_IMAGE = `registry.k8s.io/etcd:${ETCD_VERSION}-0`;

function etcdImage(): HelperImage {
  return {
    name: 'etcd',
    tag: ETCD_IMAGE,
    sources: `${goBuildSource(etcdBuild)}, ${goBuildSource(etcdctlBuild)}, busybox`,
    estimateSeconds: 90,
    identity: `${goBuildIdentity(etcdBuild)}; ${goBuildIdentity(etcdctlBuild)}; busybox root`,
    async recipe(options) {
      const root = busyboxRootFiles(await busyboxFiles(options));
      return {
        repository: 'kubelab/etcd',
        suite: 'bookworm',
        variant: 'scratch',
        packages: [],
        symlinks: root.symlinks,
        files: [
          ...root.files,
          await binaryFile(etcdBuild, '/usr/local/bin/etcd', options),
          await binaryFile(etcdctlBuild, '/usr/local/bin/etcdctl', options),
        ],
        changes: [PATH_ENV],
      };
    },
  };
}

export const FLANNEL_IMAGE = `ghcr.io/flannel-io/flannel:${FLANNEL_VERSION}`;

export const KIND_HELPER_IMAGES: readonly HelperImage[] = [
  controlPlaneImage('kube-apiserver'),
  controlPlaneImage('kube-controller-manager'),
  controlPlaneImage('kube-scheduler'),
  iptablesImage({ name: 'kube-proxy', tag: `registry.k8s.io/kube-proxy:${KUBERNETES_VERSION}`, build: kubernetesBuild('kube-proxy'), binaryPath: '/usr/local/bin/kube-proxy' }),
  etcdImage(),
  // flanneld where upstream puts it (/opt/bin); its masquerade rules need iptables, its init container cp.
  iptablesImage({ name: 'flannel', tag: FLANNEL_IMAGE, build: flanneldBuild, binaryPath: '/opt/bin/flanneld', entrypoint: true }),
];

export function kindImageItems(): ForgeItem[] {
  return KIND_HELPER_IMAGES.map(helperItem);
}
