import { FORGED_K3S_IMAGE } from '../cluster/k3d/config.js';
import { readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { inspectImage, inspectImages, tagImage } from '../docker/engine.js';
import { ensureDebianImage, RECIPE_LABEL, recipeHash, recipeTag, type DebianImageRecipe, type RecipeFile } from '../images/base.js';
import { run, runAllowingFailure } from '../util/exec.js';
import { forgeCacheDir, packageRoot } from '../util/paths.js';
import { COREDNS_IMAGE, LOCAL_PATH_IMAGE, METRICS_SERVER_IMAGE, TRAEFIK_IMAGE, TRAEFIK_MANIFEST } from './addons.js';
import type { GoBuild } from './go-build.js';
import { ensureGoBinaryNoted, goBuildIdentity } from './go-tool.js';
import { BUSYBOX_IMAGE, KLIPPER_LB_IMAGE, PAUSE_IMAGE } from './small-images.js';
import type { ForgeItem, ForgeOptions, ForgeResult, ForgeStatus } from './types.js';
import { makeTempDir } from '../util/temp.js';

/**
 * The k3s node image, forged from source: k3s's `cmd/server` multicall binary (k3s, containerd,
 * ctr, crictl, kubectl) and the containerd runc shim built from the k3s module at the v1.32.0+k3s1
 * commit, the flannel CNI plugin, and a Debian bookworm userspace (runc, CNI plugins, iptables,
 * ipset, conntrack, ...). Laid out like rancher/k3s so that k3d runs it as it runs the upstream
 * image; images k3s needs (pause, coredns, ...) ride along as an airgap tarball that k3s imports
 * at boot.
 */

/** The tag k3d is given (`k3d cluster create --image`); also the upstream release it stands for. */
export { FORGED_K3S_IMAGE };
export const K3S_VERSION = 'v1.32.0+k3s1';
/**
 * v1.32.0+k3s1's commit as the Go module proxy serves it: release tags carry `+`, which Go module
 * versions cannot, so the commit is pinned by pseudo-version. The checksum database does not know
 * it (hence GONOSUMDB); its dependencies are all checked against its go.sum.
 */
export const K3S_MODULE = 'github.com/k3s-io/k3s';
export const K3S_MODULE_VERSION = 'v1.32.1-0.20250107171309-cca8facaa33a';
const K3S_COMMIT = 'cca8facaa33a';
const K3S_COMMIT_DATE = '2025-01-07T17:13:09Z';

/** Build tags of k3s's scripts/build, less `seccomp` (needs libseccomp headers; only runc, built apart, uses it). */
const K3S_TAGS = ['ctrd', 'apparmor', 'netcgo', 'osusergo', 'providerless', 'urfave_cli_no_docs', 'sqlite_omit_load_extension'];
const K3S_ENV = { GONOSUMDB: K3S_MODULE };

/**
 * The versions stamped into the binary as k3s's scripts/build does. `UpstreamGolang` must be the Go
 * that builds it: k3s refuses to start when it is empty, so it is asked of `go env GOVERSION`.
 */
function k3sLdflags(goVersion: string): string[] {
  const k8sVersion = (pkg: string) => [
    `${pkg}.gitVersion=${K3S_VERSION}`,
    `${pkg}.gitCommit=${K3S_COMMIT}`,
    `${pkg}.gitTreeState=clean`,
    `${pkg}.buildDate=${K3S_COMMIT_DATE}`,
  ];
  return [
    `github.com/k3s-io/k3s/pkg/version.Version=${K3S_VERSION}`,
    `github.com/k3s-io/k3s/pkg/version.GitCommit=${K3S_COMMIT.slice(0, 8)}`,
    `github.com/k3s-io/k3s/pkg/version.UpstreamGolang=${goVersion}`,
    ...k8sVersion('k8s.io/client-go/pkg/version'),
    ...k8sVersion('k8s.io/component-base/version'),
    // Versions of the replaced modules in k3s's go.mod at this commit.
    'sigs.k8s.io/cri-tools/pkg/version.Version=v1.31.0-k3s2',
    'github.com/containerd/containerd/version.Version=v1.7.23-k3s2',
    'github.com/containerd/containerd/version.Package=github.com/k3s-io/containerd',
  ];
}

/** `/bin/k3s`: the server/agent multicall that also answers as containerd, ctr, crictl and kubectl. */
export function k3sServerBuild(goVersion: string): GoBuild {
  return {
    name: 'k3s',
    module: K3S_MODULE,
    version: K3S_MODULE_VERSION,
    pkg: './cmd/server',
    cgo: true, // kine's sqlite
    tags: K3S_TAGS,
    ldflags: k3sLdflags(goVersion),
    env: K3S_ENV,
  };
}

/**
 * containerd's runc shim from the containerd k3s's go.mod pins (github.com/k3s-io/containerd
 * v1.7.23-k3s2), built as its own main module as k3s's scripts/build does: inside the k3s module
 * the shim does not compile (k3s's newer go-runc lacks what containerd 1.7's reaper implements).
 */
export const containerdShimBuild: GoBuild = {
  name: 'containerd-shim-runc-v2',
  module: 'github.com/k3s-io/containerd',
  version: 'v1.7.23-k3s2',
  pkg: './cmd/containerd-shim-runc-v2',
  cgo: true,
  tags: ['apparmor', 'netcgo', 'osusergo', 'urfave_cli_no_docs'],
  ldflags: ['github.com/containerd/containerd/version.Version=v1.7.23-k3s2', 'github.com/containerd/containerd/version.Package=github.com/k3s-io/containerd'],
};

/**
 * The flannel CNI plugin. k3s v1.32.0 bundles flannel-io/cni-plugin v1.6.0-flannel1, which the
 * Go module proxy does not serve (no version of that module is served). containernetworking/plugins
 * v0.9.1, the last release before the plugin moved to flannel-io, carries the same plugin
 * (plugins/meta/flannel) and is served. It speaks CNI spec up to 0.4.0, so the image ships a CNI
 * config list at that version (forge/k3s/flannel.conflist, given to k3s as --flannel-cni-conf).
 */
export const flannelCniBuild: GoBuild = {
  name: 'flannel',
  module: 'github.com/containernetworking/plugins',
  version: 'v0.9.1',
  pkg: './plugins/meta/flannel',
  ldflags: ['github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=v0.9.1'],
};

export function k3sGoBuilds(goVersion: string): GoBuild[] {
  return [k3sServerBuild(goVersion), containerdShimBuild, flannelCniBuild];
}

/**
 * What kubelab's node image carries: the images of the k3s add-ons kubelab keeps (forged by the
 * add-on and helper items, which must run first) and kubelab's own Traefik, applied by k3s servers.
 */
export const KUBELAB_K3S_NODE_INPUTS: { airgapImages: readonly string[]; serverManifests: readonly string[] } = {
  airgapImages: [PAUSE_IMAGE, BUSYBOX_IMAGE, KLIPPER_LB_IMAGE, COREDNS_IMAGE, METRICS_SERVER_IMAGE, LOCAL_PATH_IMAGE, TRAEFIK_IMAGE],
  serverManifests: [TRAEFIK_MANIFEST],
};

/** Where each binary lands in the image. */
const BINARY_PATHS: Record<string, string> = {
  k3s: '/bin/k3s',
  'containerd-shim-runc-v2': '/bin/containerd-shim-runc-v2',
  // containerd runs /usr/lib/cni/flannel: the script that waits for the node's lease, then this.
  flannel: '/usr/libexec/kubelab/flannel',
};

/** The Go that builds: its version is stamped into k3s, so it is part of what the image is made of. */
export async function goVersion(): Promise<string> {
  const result = await runAllowingFailure('go', ['env', 'GOVERSION'], { env: { GOTOOLCHAIN: 'local' } }).catch((error: unknown) => {
    if (error instanceof EnvironmentError) return undefined;
    throw error;
  });
  const version = result?.exitCode === 0 ? result.stdout.trim() : '';
  if (!version) throw new EnvironmentError('building the k3s node image needs Go, which is not installed', 'install Go 1.23 or newer (https://go.dev/dl), then kubelab forge');
  return version;
}

/** Built binaries are kept here (with a stamp each), so that a changed image recipe reuses them. */
export function k3sBinaryDir(): string {
  return join(forgeCacheDir(), `k3s-${K3S_VERSION.replace('+', '-')}`);
}

/** Static files of the image, kept in the repository's forge/k3s/. */
function staticFile(name: string): Promise<string> {
  return readFile(join(packageRoot(), 'forge', 'k3s', name), 'utf8');
}

/** An image to carry into the node, as it is now in the local docker. */
export interface AirgapImage {
  tag: string;
  id: string;
}

/**
 * Which of `tags` exist locally. Missing ones are left out (k3s then has to do without them: without
 * pause no pod starts), and `onLine` is told which, so that a node short of an image says so.
 */
export async function resolveAirgapImages(
  tags: readonly string[],
  onLine?: (line: string) => void,
): Promise<{ present: AirgapImage[]; missing: string[] }> {
  const sorted = [...new Set(tags)].sort();
  const found = await inspectImages(sorted);
  const present = [...found].map(([tag, info]) => ({ tag, id: info.id }));
  const missing = sorted.filter((tag) => !found.has(tag));
  if (missing.length > 0) onLine?.(`not in the local image store, so left out of the node's airgap images: ${missing.join(', ')} (kubelab forge builds them)`);
  return { present, missing };
}

const AIRGAP_PATH = '/var/lib/rancher/k3s/agent/images/kubelab-airgap.tar';

/**
 * The image recipe. Binaries enter the recipe hash by their build identity (module, version, flags),
 * the airgap tarball by the ids of the images it holds: checking whether the image is current
 * builds nothing and reads no binary.
 */
export async function k3sNodeRecipe(
  go: string,
  airgap: readonly AirgapImage[],
  airgapTar?: string,
  serverManifests: readonly string[] = [],
): Promise<DebianImageRecipe> {
  const binaries: RecipeFile[] = k3sGoBuilds(go).map((build) => ({
    path: BINARY_PATHS[build.name]!,
    source: { file: binaryPath(build), identity: goBuildIdentity(build) },
    mode: 0o755,
  }));
  const files: RecipeFile[] = [
    ...binaries,
    { path: '/etc/rancher/k3s/config.yaml', source: { text: await staticFile('config.yaml') } },
    { path: '/etc/rancher/k3s/flannel.conflist', source: { text: await staticFile('flannel.conflist') } },
    { path: '/usr/lib/cni/flannel', source: { text: await staticFile('flannel-cni-wait.sh') }, mode: 0o755 },
    // k3d's entrypoint runs every /bin/k3d-entrypoint-*.sh before k3s: this one keeps CPU limits on cgroup v1 hosts.
    { path: '/bin/k3d-entrypoint-cgroupv1.sh', source: { text: await staticFile('k3d-entrypoint-cgroupv1.sh') }, mode: 0o755 },
    // Below are the image's VOLUMEs: docker copies these files into each new node's volume.
    { path: '/var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl', source: { text: await staticFile('config.toml.tmpl') } },
    // kubelab deploys Traefik from its own manifests; k3s must not install its packaged HelmChart.
    // A .skip file (not `disable: [traefik]`, which agents would reject) works for any role.
    { path: '/var/lib/rancher/k3s/server/manifests/traefik.yaml.skip', source: { text: '' } },
    // Manifests k3s servers apply at start (and keep applied), e.g. kubelab's own Traefik.
    ...(await Promise.all(
      serverManifests.map(async (file) => ({
        path: `/var/lib/rancher/k3s/server/manifests/${basename(file)}`,
        source: { text: await readFile(file, 'utf8') },
      })),
    )),
  ];
  if (airgap.length > 0) {
    files.push({
      path: AIRGAP_PATH,
      source: { file: airgapTar ?? '/nonexistent', identity: `docker save ${airgap.map((i) => `${i.tag}@${i.id}`).join(' ')}` },
    });
  }
  return {
    repository: 'kubelab/k3s',
    suite: 'bookworm',
    variant: 'minbase',
    packages: [
      'runc',
      'containernetworking-plugins',
      'iptables',
      'ipset',
      'conntrack',
      'ethtool',
      'iproute2',
      'procps',
      'kmod',
      'ca-certificates',
    ],
    symlinks: [
      ['/bin/containerd', 'k3s'],
      ['/bin/ctr', 'k3s'],
      ['/bin/crictl', 'k3s'],
      ['/bin/kubectl', 'k3s'],
      // k3d's entrypoint traps "SIGTERM" etc., which dash rejects (the upstream image's sh is
      // busybox ash); bash as sh accepts it.
      ['/bin/sh', 'bash'],
    ],
    files,
    changes: [
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/cni',
      'ENV CRI_CONFIG_FILE=/var/lib/rancher/k3s/agent/etc/crictl.yaml',
      'VOLUME /var/lib/kubelet',
      'VOLUME /var/lib/rancher/k3s',
      'VOLUME /var/lib/cni',
      'VOLUME /var/log',
      'ENTRYPOINT ["/bin/k3s"]',
      'CMD ["agent"]',
    ],
  };
}

function binaryPath(build: GoBuild): string {
  return join(k3sBinaryDir(), build.name); // where ensureGoBinary puts it
}

export interface K3sNodeImageOptions extends ForgeOptions {
  /** Images to carry into the node for k3s to import at boot; those not in the local docker are left out. */
  airgapImages: readonly string[];
  /** Manifest files for /var/lib/rancher/k3s/server/manifests/ (k3s servers apply them at start). */
  serverManifests?: readonly string[];
}

export interface K3sNodeImageResult extends ForgeResult {
  /** The content-addressed tag (`kubelab/k3s:<hash12>`); `location` is FORGED_K3S_IMAGE. */
  recipeTag: string;
  imageId: string;
  airgap: AirgapImage[];
  /** Requested airgap images that do not exist locally (not in the node). */
  missingAirgap: string[];
}

/**
 * Builds the node image unless one from the same inputs exists, and tags it FORGED_K3S_IMAGE.
 * A newly built airgap image (e.g. coredns) changes the inputs, so the node image is rebuilt
 * (binaries are reused; only debootstrap and the import run again).
 */
export async function ensureK3sNodeImage(options: K3sNodeImageOptions): Promise<K3sNodeImageResult> {
  const started = performance.now();
  const go = await goVersion();
  const { present, missing } = await resolveAirgapImages(options.airgapImages, options.onLine);
  const planned = await k3sNodeRecipe(go, present, undefined, options.serverManifests);
  const tag = recipeTag(planned);
  const existing = await inspectImage(tag);
  if (existing && existing.labels[RECIPE_LABEL] === recipeHash(planned) && !options.force) {
    await tagImage(tag, FORGED_K3S_IMAGE);
    return {
      present: true,
      location: FORGED_K3S_IMAGE,
      sizeBytes: existing.sizeBytes,
      skipped: true,
      durationMs: performance.now() - started,
      recipeTag: tag,
      imageId: existing.id,
      airgap: present,
      missingAirgap: missing,
    };
  }
  for (const build of k3sGoBuilds(go)) await ensureGoBinaryNoted(build, k3sBinaryDir(), options);
  const work = await makeTempDir('k3s-airgap');
  try {
    const tar = join(work, 'airgap.tar');
    if (present.length > 0) {
      options.onLine?.(`docker save ${present.map((i) => i.tag).join(' ')}`);
      await run('docker', ['save', '--output', tar, ...present.map((i) => i.tag)], { signal: options.signal });
    }
    const recipe = await k3sNodeRecipe(go, present, tar, options.serverManifests);
    const built = await ensureDebianImage(recipe, { force: options.force, signal: options.signal, onLine: options.onLine });
    await tagImage(built.tag, FORGED_K3S_IMAGE);
    await removeStaleNodeImages(built.tag);
    return {
      present: true,
      location: FORGED_K3S_IMAGE,
      sizeBytes: built.sizeBytes,
      skipped: false,
      durationMs: performance.now() - started,
      recipeTag: built.tag,
      imageId: built.imageId,
      airgap: present,
      missingAirgap: missing,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Earlier builds (other airgap images, another Go) are 600 MB each and nothing refers to them by
 * tag: remove them. One still used by a container stays (docker refuses), which is fine.
 */
async function removeStaleNodeImages(current: string): Promise<void> {
  const [repository, keep] = current.split(':');
  const listed = await runAllowingFailure('docker', ['image', 'ls', '--format', '{{.Tag}}', repository!]);
  if (listed.exitCode !== 0) return;
  for (const tag of listed.stdout.split('\n').map((t) => t.trim())) {
    if (/^[0-9a-f]{12}$/.test(tag) && tag !== keep) await runAllowingFailure('docker', ['image', 'rm', `${repository}:${tag}`]);
  }
}

/** Whether FORGED_K3S_IMAGE is the image today's inputs make (Go version, airgap image ids, recipe). */
export async function k3sNodeImageStatus(airgapImages: readonly string[], serverManifests: readonly string[] = []): Promise<ForgeStatus> {
  // The three reads side by side: each is a process of its own.
  const [tagged, go, airgap] = await Promise.all([
    inspectImage(FORGED_K3S_IMAGE),
    goVersion().catch(() => undefined),
    resolveAirgapImages(airgapImages),
  ]);
  if (!tagged) return { present: false, location: FORGED_K3S_IMAGE };
  // Without Go nothing can be rebuilt: what is there is what there is.
  if (!go) return { present: true, location: FORGED_K3S_IMAGE, sizeBytes: tagged.sizeBytes };
  const recipe = await k3sNodeRecipe(go, airgap.present, undefined, serverManifests);
  const current = tagged.labels[RECIPE_LABEL] === recipeHash(recipe);
  return { present: current, location: FORGED_K3S_IMAGE, sizeBytes: tagged.sizeBytes };
}

/**
 * The forge item. The catalog lists it after the image items whose tags it passes (pause, coredns,
 * metrics-server, local-path-provisioner, busybox, traefik): they are read when the item runs.
 */
export function k3sNodeImageItem(inputs: { airgapImages: readonly string[]; serverManifests?: readonly string[] } = KUBELAB_K3S_NODE_INPUTS): ForgeItem {
  return {
    name: 'k3s node image',
    kind: 'image',
    location: FORGED_K3S_IMAGE,
    sources: `${K3S_MODULE}@${K3S_VERSION} (${K3S_MODULE_VERSION}), github.com/containernetworking/plugins@v0.9.1 (flannel), debian bookworm`,
    estimateSeconds: 15 * 60,
    status: () => k3sNodeImageStatus(inputs.airgapImages, inputs.serverManifests),
    ensure: (options) => ensureK3sNodeImage({ ...options, ...inputs }),
  };
}
