import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { inspectImage, inspectImages, removeContainer, tagImage, waitForLog } from '../../docker/engine.js';
import { EnvironmentError } from '../../errors.js';
import { ensureDebianImage, recipeTag, type DebianImageRecipe, type RecipeFile } from '../../images/base.js';
import { run, runAllowingFailure } from '../../util/exec.js';
import { packageRoot } from '../../util/paths.js';
import { COREDNS_IMAGE, COREDNS_VERSION, LOCAL_PATH_IMAGE, METRICS_SERVER_IMAGE, METRICS_SERVER_MANIFEST, TRAEFIK_IMAGE, TRAEFIK_MANIFEST } from '../addons.js';
import { goBuildSource } from '../go-build.js';
import { ensureGoBinaryNoted, goBuildIdentity } from '../go-tool.js';
import { BUSYBOX_IMAGE, PAUSE_IMAGE } from '../small-images.js';
import { forgeCacheDir } from '../../util/paths.js';
import type { ForgeItem, ForgeOptions, ForgeResult, ForgeStatus } from '../types.js';
import { FORGED_KIND_IMAGE, KUBELAB_ADDONS_DIR } from '../../cluster/kind/config.js';
import { kindBinaryDir, KUBERNETES_VERSION, NODE_BINARIES } from './binaries.js';
import { KIND_HELPER_IMAGES } from './images.js';
import { traefikManifestForKind } from './traefik.js';
import { makeTempDir } from '../../util/temp.js';

/**
 * kubelab's equivalent of kindest/node: kind's base image (Debian, systemd, containerd, runc,
 * crictl, CNI plugins; kind's own entrypoint and units, read from the kind module) plus kubeadm,
 * kubelet and kubectl, with every image kubeadm and the default add-ons run preloaded into
 * containerd, so that a cluster boots with no registry.
 */
/** The kind release whose base-image files (entrypoint, systemd units, sysctls) the node carries. */
const KIND_MODULE = 'sigs.k8s.io/kind@v0.31.0';
/** Label on FORGED_KIND_IMAGE: a hash of the base recipe and the ids of the images preloaded into it. */
const KIND_NODE_LABEL = 'dev.kubelab.kind-node';

/** CoreDNS and pause as forged for k3s, under the names kubeadm (told by kindConfig) and containerd look for. */
const REUSED_IMAGES: ReadonlyArray<readonly [forged: string, asNamed: string]> = [
  [COREDNS_IMAGE, `registry.k8s.io/coredns/coredns:${COREDNS_VERSION}`],
  [PAUSE_IMAGE, 'registry.k8s.io/pause:3.10.1'],
];

/** Every image the node preloads, by the name containerd will know it under. */
export function preloadedImages(): string[] {
  return [...KIND_HELPER_IMAGES.map((image) => image.tag), ...REUSED_IMAGES.map(([, named]) => named), ...AS_FORGED];
}

/** local-path (kind's default storage) and the add-ons lessons may ask for, under their k3s names. */
const AS_FORGED = [LOCAL_PATH_IMAGE, BUSYBOX_IMAGE, TRAEFIK_IMAGE, METRICS_SERVER_IMAGE];

/** The images the node image is made from: forge items that must run before it. */
export function preloadSources(): string[] {
  return [...KIND_HELPER_IMAGES.map((image) => image.tag), ...REUSED_IMAGES.map(([forged]) => forged), ...AS_FORGED];
}

const NODE_PACKAGES = [
  'systemd', 'dbus', 'conntrack', 'iptables', 'nftables', 'iproute2', 'ethtool', 'util-linux', 'mount', 'kmod',
  'libseccomp2', 'pigz', 'bash', 'ca-certificates', 'curl', 'jq', 'procps', 'runc', 'socat',
];

async function kindModuleDir(options: ForgeOptions): Promise<string> {
  await mkdir(forgeCacheDir(), { recursive: true }); // go's working directory, absent on a new machine
  const { stdout } = await run('go', ['mod', 'download', '-json', KIND_MODULE], {
    cwd: forgeCacheDir(),
    env: { GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOWORK: 'off' },
    signal: options.signal,
    timeoutMs: 10 * 60_000,
  });
  const dir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!dir) throw new EnvironmentError(`go mod download ${KIND_MODULE} gave no source directory`);
  return dir;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

/** kind's images/base/files, less the containerd config (kind's is for containerd 2; kubelab's is its own). */
async function kindBaseFiles(options: ForgeOptions): Promise<RecipeFile[]> {
  const root = join(await kindModuleDir(options), 'images', 'base', 'files');
  const files: RecipeFile[] = [];
  for (const file of await filesUnder(root)) {
    const path = `/${relative(root, file)}`;
    if (path === '/etc/containerd/config.toml') continue;
    const executable = path.startsWith('/usr/local/bin/') || path.startsWith('/kind/bin/');
    files.push({ path, source: { file, identity: `${KIND_MODULE} images/base/files${path}` }, mode: executable ? 0o755 : 0o644 });
  }
  return files;
}

const staticFile = (name: string) => readFile(join(packageRoot(), 'forge', 'kind', name), 'utf8');

const binaryPath = (name: string) => join(kindBinaryDir(), name);
const ctrBuild = NODE_BINARIES.find(([path]) => path.endsWith('/ctr'))![1];
const CRI_BASE_IDENTITY = `ctr oci spec of ${goBuildIdentity(ctrBuild)}, kind's createContainer hook, no rlimits`;

/**
 * containerd's default OCI spec as kind's base image makes it: `ctr oci spec` with kind's
 * createContainer hook (per-container product_uuid) and without rlimits.
 */
async function writeCriBaseSpec(): Promise<void> {
  const { stdout } = await run(binaryPath(ctrBuild.name), ['oci', 'spec']);
  const spec = JSON.parse(stdout) as { process?: { rlimits?: unknown }; hooks?: { createContainer?: Array<{ path: string }> } };
  delete spec.process?.rlimits;
  spec.hooks = { ...spec.hooks, createContainer: [...(spec.hooks?.createContainer ?? []), { path: '/kind/bin/mount-product-files.sh' }] };
  await writeFile(binaryPath('cri-base.json'), JSON.stringify(spec, null, 2) + '\n');
}

/**
 * The base recipe (everything but the preloaded images). Binaries enter it by their build identity:
 * checking whether the image is current builds nothing.
 */
export async function kindNodeRecipe(options: ForgeOptions = {}): Promise<DebianImageRecipe> {
  const binaries: RecipeFile[] = NODE_BINARIES.map(([path, build]) => ({
    path,
    source: { file: binaryPath(build.name), identity: goBuildIdentity(build) },
    mode: 0o755,
  }));
  return {
    repository: 'kubelab/kind-node-base',
    suite: 'bookworm',
    variant: 'minbase',
    packages: NODE_PACKAGES,
    // As kind's base Dockerfile: a container node starts only the units it needs.
    remove: [
      '/lib/systemd/system/multi-user.target.wants/*',
      '/etc/systemd/system/multi-user.target.wants/*',
      '/lib/systemd/system/local-fs.target.wants/*',
      '/lib/systemd/system/basic.target.wants/*',
      '/lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service',
      '/lib/systemd/system/sockets.target.wants/systemd-udevd-control.socket',
      '/lib/systemd/system/sockets.target.wants/systemd-udevd-kernel.socket',
      '/lib/systemd/system/sockets.target.wants/systemd-initctl.socket',
    ],
    symlinks: [
      ['/sbin/init', '/lib/systemd/systemd'],
      ['/etc/systemd/system/multi-user.target.wants/kubelet.service', '/etc/systemd/system/kubelet.service'],
      ['/etc/systemd/system/multi-user.target.wants/containerd.service', '/etc/systemd/system/containerd.service'],
      ['/etc/systemd/system/multi-user.target.wants/undo-mount-hacks.service', '/etc/systemd/system/undo-mount-hacks.service'],
      ['/etc/systemd/system/systemd-binfmt.service', '/dev/null'],
    ],
    edits: [['/etc/systemd/journald.conf', '[Journal]\n', '[Journal]\nReadKMsg=no\n']],
    files: [
      ...(await kindBaseFiles(options)),
      ...binaries,
      { path: '/etc/containerd/config.toml', source: { text: await staticFile('containerd.toml') } },
      { path: '/etc/containerd/cri-base.json', source: { file: binaryPath('cri-base.json'), identity: CRI_BASE_IDENTITY } },
      { path: '/kind/version', source: { text: `${KUBERNETES_VERSION}\n` } },
      { path: '/kind/manifests/default-cni.yaml', source: { text: await staticFile('default-cni.yaml') } },
      { path: '/kind/manifests/default-storage.yaml', source: { text: await staticFile('default-storage.yaml') } },
      // The add-ons a lesson may ask for (ClusterSpec.addons), applied by the kind provider.
      { path: `${KUBELAB_ADDONS_DIR}/traefik.yaml`, source: { text: traefikManifestForKind(await readFile(TRAEFIK_MANIFEST, 'utf8')) } },
      { path: `${KUBELAB_ADDONS_DIR}/metrics-server.yaml`, source: { text: await readFile(METRICS_SERVER_MANIFEST, 'utf8') } },
      { path: '/etc/kubernetes/manifests/.keep', source: { text: '' } },
    ],
    changes: ['ENV container=docker', 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]'],
  };
}

/**
 * What FORGED_KIND_IMAGE is made of: its base recipe image and the ids of what it preloads; or,
 * while some of those are not in the local store, which.
 */
async function nodeIdentity(baseTag: string): Promise<{ identity: string } | { missing: string[] }> {
  const sources = preloadSources();
  const found = await inspectImages(sources);
  const parts = [baseTag, ...[...found].map(([image, info]) => `${image}@${info.id}`)];
  const missing = sources.filter((image) => !found.has(image));
  return missing.length > 0 ? { missing } : { identity: createHash('sha256').update(parts.join('\n')).digest('hex') };
}

/**
 * Preloads the images into containerd inside a container of the base image and commits it: the
 * content lands in /var/lib/containerd, which docker copies into each node's /var volume.
 */
async function preload(baseTag: string, identity: string, options: ForgeOptions): Promise<void> {
  for (const [forged, named] of REUSED_IMAGES) await tagImage(forged, named);
  const dir = await makeTempDir('kind-preload');
  const name = `kubelab-kind-preload-${process.pid}`;
  const images = preloadedImages();
  try {
    const archive = join(dir, 'images.tar');
    options.onLine?.(`docker save ${images.length} images for the node's containerd`);
    await run('docker', ['save', '--output', archive, ...images], { signal: options.signal });
    await run('docker', ['run', '--detach', '--privileged', '--name', name, '--entrypoint', '/usr/local/bin/containerd', baseTag], { signal: options.signal });
    await waitForLog(name, /containerd successfully booted/, { timeoutMs: 60_000, signal: options.signal });
    await run('docker', ['cp', archive, `${name}:/preload.tar`], { signal: options.signal });
    options.onLine?.('ctr images import (not unpacked), then pinned against the kubelet\'s image GC');
    const ctr = (...args: string[]) => run('docker', ['exec', name, 'ctr', '--namespace', 'k8s.io', ...args], { signal: options.signal, timeoutMs: 10 * 60_000 });
    await ctr('images', 'import', '--no-unpack', '--all-platforms', '--digests', '/preload.tar');
    const { stdout } = await ctr('images', 'list', '--quiet');
    const listed = stdout.split('\n').map((line) => line.trim());
    // containerd names Docker Hub images in full (docker.io/library/busybox); the rest as given.
    const refOf = (image: string) => listed.find((ref) => ref === image || ref === `docker.io/${image}` || ref === `docker.io/library/${image}`);
    const missing = images.filter((image) => !refOf(image));
    if (missing.length > 0) throw new Error(`after the import, the node's containerd lacks ${missing.join(', ')}`);
    // containerd 1.7's import takes no labels: the CRI's pinned label keeps the kubelet's image GC off them.
    for (const image of images) await ctr('images', 'label', refOf(image)!, 'io.cri-containerd.pinned=pinned');
    await run('docker', ['exec', name, 'rm', '/preload.tar']);
    await run('docker', ['stop', '--time', '10', name], { signal: options.signal });
    await run('docker', ['commit', '--change', `LABEL ${KIND_NODE_LABEL}=${identity}`, '--change', 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]', '--change', 'CMD []', name, FORGED_KIND_IMAGE], {
      signal: options.signal,
    });
  } finally {
    await removeContainer(name);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Current when its label matches today's base recipe and preloaded image ids. */
export async function kindNodeImageStatus(): Promise<ForgeStatus> {
  const [tagged, made] = await Promise.all([inspectImage(FORGED_KIND_IMAGE), kindNodeRecipe().then((recipe) => nodeIdentity(recipeTag(recipe)))]);
  if (!tagged) return { present: false, location: FORGED_KIND_IMAGE };
  return { present: 'identity' in made && tagged.labels[KIND_NODE_LABEL] === made.identity, location: FORGED_KIND_IMAGE, sizeBytes: tagged.sizeBytes };
}

export async function ensureKindNodeImage(options: ForgeOptions = {}): Promise<ForgeResult> {
  const started = performance.now();
  for (const [, build] of NODE_BINARIES) await ensureGoBinaryNoted(build, kindBinaryDir(), options);
  await writeCriBaseSpec();
  const recipe = await kindNodeRecipe(options);
  const base = await ensureDebianImage(recipe, { force: options.force, signal: options.signal, onLine: options.onLine });
  const made = await nodeIdentity(base.tag);
  if ('missing' in made) {
    throw new EnvironmentError(`the kind node image preloads ${made.missing.join(', ')}, which are not in the local image store`, 'kubelab forge (it builds them before the node image)');
  }
  const { identity } = made;
  const existing = await inspectImage(FORGED_KIND_IMAGE);
  if (existing?.labels[KIND_NODE_LABEL] === identity && !options.force) {
    return { present: true, location: FORGED_KIND_IMAGE, sizeBytes: existing.sizeBytes, skipped: true, durationMs: performance.now() - started };
  }
  await preload(base.tag, identity, options);
  const info = await inspectImage(FORGED_KIND_IMAGE);
  if (!info) throw new Error(`docker commit reported success but ${FORGED_KIND_IMAGE} does not exist`);
  // The replaced node image is untagged now and 1 GB: drop it.
  if (existing && existing.id !== info.id) await runAllowingFailure('docker', ['image', 'rm', existing.id]);
  return { present: true, location: FORGED_KIND_IMAGE, sizeBytes: info.sizeBytes, skipped: false, durationMs: performance.now() - started };
}

export function kindNodeImageItem(): ForgeItem {
  return {
    name: 'kind node image',
    kind: 'image',
    location: FORGED_KIND_IMAGE,
    sources: `${[...new Set(NODE_BINARIES.map(([, build]) => goBuildSource(build)))].join(', ')}, ${KIND_MODULE} base files, debian bookworm; preloads ${preloadedImages().length} images`,
    estimateSeconds: 30 * 60,
    needs: preloadSources(),
    status: kindNodeImageStatus,
    ensure: ensureKindNodeImage,
  };
}
