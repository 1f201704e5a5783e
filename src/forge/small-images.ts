import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { inspectImage, removeContainer, tagImage } from '../docker/engine.js';
import { ensureDebianImage, recipeTag, type DebianImageRecipe, type RecipeFile } from '../images/base.js';
import { exclusive } from '../util/exclusive.js';
import { run, runAllowingFailure } from '../util/exec.js';
import { forgeCacheDir, packageRoot } from '../util/paths.js';
import type { ForgeItem, ForgeOptions, ForgeResult, ForgeStatus } from './types.js';

/**
 * Small images k3s and k3d run besides the node image, built locally because nothing can be
 * pulled. Each is built as a content-addressed `kubelab/...:<recipe hash>` image (images/base.ts)
 * and then tagged exactly as its consumer asks for it. The consumer tag carries HELPER_LABEL, a
 * hash of everything the image is made from that is known without building: an item is current
 * when its consumer tag exists with that label, which `status()` checks with one `docker inspect`.
 */

/** The pause image k3s v1.32.0 runs (`--pause-image` default, scripts/airgap/image-list.txt). */
export const PAUSE_IMAGE = 'rancher/mirrored-pause:3.6';
/** local-path-provisioner's helper pod image in k3s v1.32.0 (its ConfigMap `helperPod.yaml`). */
export const BUSYBOX_IMAGE = 'rancher/mirrored-library-busybox:1.36.1';
/** The image k3s v1.32.0's service load balancer runs in its svclb pods (servicelb.go DefaultLBImage). */
export const KLIPPER_LB_IMAGE = 'rancher/klipper-lb:v0.4.9';

/** Kubernetes release whose build/pause/linux/pause.c is compiled. */
export const PAUSE_SOURCE_MODULE = 'k8s.io/kubernetes';
export const PAUSE_SOURCE_VERSION = 'v1.34.2';
/** build/pause/Makefile: TAG ?= 3.10.1, CFLAGS = -Os -Wall -Werror -static -DVERSION=v$(TAG)-$(REV). */
const PAUSE_CFLAGS = ['-Os', '-Wall', '-Werror', '-static', `-DVERSION=v3.10.1-${PAUSE_SOURCE_VERSION}`];

export const HELPER_LABEL = 'dev.kubelab.helper';
export const PATH_ENV = 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function identityHash(identity: string): string {
  return createHash('sha256').update(identity).digest('hex');
}

export interface HelperImage {
  /** The forge item's name. */
  name: string;
  /** The exact tag the consumer (k3s, k3d) asks for. */
  tag: string;
  sources: string;
  estimateSeconds: number;
  /** Everything the image is made from that is known without building (versions, flags, file hashes). */
  identity: string;
  /** Builds what the image needs (binaries) and returns its recipe; the label is added by the caller. */
  recipe(options: ForgeOptions): Promise<DebianImageRecipe>;
}

/** The helper label line every helper recipe carries. */
function labelChange(helper: HelperImage): string {
  return `LABEL ${HELPER_LABEL}=${identityHash(helper.identity)}`;
}

export async function helperStatus(helper: HelperImage): Promise<ForgeStatus> {
  const image = await inspectImage(helper.tag);
  if (!image || image.labels[HELPER_LABEL] !== identityHash(helper.identity)) return { present: false, location: helper.tag };
  return { present: true, location: helper.tag, sizeBytes: image.sizeBytes };
}

/** Builds the helper's recipe image (unless the same recipe exists) and tags it as the consumer expects. */
export async function ensureHelperImage(helper: HelperImage, options: ForgeOptions = {}): Promise<ForgeResult> {
  const started = performance.now();
  const current = await helperStatus(helper);
  if (current.present && !options.force) return { ...current, skipped: true, durationMs: performance.now() - started };
  const base = await helper.recipe(options);
  const recipe: DebianImageRecipe = { ...base, changes: [...base.changes, labelChange(helper)] };
  const built = await ensureDebianImage(recipe, { force: options.force, signal: options.signal, onLine: options.onLine });
  await tagImage(built.tag, helper.tag);
  const after = await helperStatus(helper);
  if (!after.present) throw new Error(`${helper.tag} was tagged from ${built.tag} but does not carry ${HELPER_LABEL}`);
  return { ...after, skipped: false, durationMs: performance.now() - started };
}

export function helperItem(helper: HelperImage): ForgeItem {
  return {
    name: helper.name,
    kind: 'image',
    location: helper.tag,
    sources: helper.sources,
    estimateSeconds: helper.estimateSeconds,
    status: () => helperStatus(helper),
    ensure: (options) => ensureHelperImage(helper, options),
  };
}

/**
 * Produces `path` unless it exists: `make` writes to a temp path that is renamed into place, so an
 * interrupted build leaves nothing that looks finished.
 */
export function cachedFile(path: string, make: (temp: string) => Promise<void>): Promise<string> {
  return exclusive(`file ${path}`, async () => {
    if (existsSync(path)) return path;
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.new-${process.pid}`;
    try {
      await make(temp);
      await rename(temp, path);
    } finally {
      await rm(temp, { force: true });
    }
    return path;
  });
}

/**
 * kubelab's own Go programs, each a module in the repository's forge/<name> (go.mod, go.sum, *.go),
 * standing in for images whose sources the Go proxy does not serve or whose base cannot be built.
 */
export function localGoSourceHash(name: string): string {
  const dir = join(packageRoot(), 'forge', name);
  const files = readdirSync(dir).filter((file) => /^go\.(mod|sum)$|\.go$/.test(file)).sort();
  return identityHash(files.map((file) => readFileSync(join(dir, file), 'utf8')).join('\0'));
}

/** A static build of forge/<name>, cached by its source. */
export async function buildLocalGoProgram(name: string, options: ForgeOptions = {}): Promise<string> {
  const out = join(forgeCacheDir(), `${name}-${localGoSourceHash(name).slice(0, 12)}`);
  return cachedFile(out, async (temp) => {
    options.onLine?.(`go build forge/${name} (static)`);
    await run('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', temp, '.'], {
      cwd: join(packageRoot(), 'forge', name),
      env: { CGO_ENABLED: '0', GOFLAGS: '-mod=mod', GOWORK: 'off' },
      signal: options.signal,
    });
  });
}

// ---------------------------------------------------------------------------------------------
// pause

const pauseIdentity = `pause.c from ${PAUSE_SOURCE_MODULE}@${PAUSE_SOURCE_VERSION} build/pause/linux, gcc ${PAUSE_CFLAGS.join(' ')}`;

/** `gcc -static` of Kubernetes' pause.c, cached by its identity. */
export async function buildPauseBinary(options: ForgeOptions = {}): Promise<string> {
  const out = join(forgeCacheDir(), `pause-${identityHash(pauseIdentity).slice(0, 12)}`);
  return cachedFile(out, async (temp) => {
    const download = await runAllowingFailure('go', ['mod', 'download', '-json', `${PAUSE_SOURCE_MODULE}@${PAUSE_SOURCE_VERSION}`], {
      cwd: forgeCacheDir(),
      env: { GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOWORK: 'off' },
      signal: options.signal,
      timeoutMs: 20 * 60_000,
    }).catch((error: unknown) => {
      if (error instanceof EnvironmentError) throw new EnvironmentError('building the pause image needs Go (to fetch pause.c)', 'install Go 1.22 or newer');
      throw error;
    });
    const dir = (JSON.parse(download.stdout || '{}') as { Dir?: string; Error?: string }).Dir;
    if (download.exitCode !== 0 || !dir) {
      throw new EnvironmentError(
        `go mod download ${PAUSE_SOURCE_MODULE}@${PAUSE_SOURCE_VERSION} failed: ${(download.stdout + download.stderr).trim().split('\n').slice(-4).join('\n')}`,
        'check that the Go module proxy (go env GOPROXY) serves this version',
      );
    }
    options.onLine?.(`gcc ${PAUSE_CFLAGS.join(' ')} pause.c`);
    await run('gcc', [...PAUSE_CFLAGS, '-o', temp, join(dir, 'build', 'pause', 'linux', 'pause.c')], { signal: options.signal }).catch(
      (error: unknown) => {
        if (error instanceof EnvironmentError) throw new EnvironmentError('building the pause image needs gcc and static libc', 'apt-get install gcc libc6-dev');
        throw error;
      },
    );
  });
}

/** k8s' pause image as its Dockerfile makes it: /pause in scratch, USER 65535, ENTRYPOINT /pause. */
export const pauseImage: HelperImage = {
  name: 'pause image',
  tag: PAUSE_IMAGE,
  sources: `${PAUSE_SOURCE_MODULE}@${PAUSE_SOURCE_VERSION} build/pause/linux/pause.c (gcc -static)`,
  estimateSeconds: 20,
  identity: pauseIdentity,
  async recipe(options) {
    const binary = await buildPauseBinary(options);
    return {
      repository: 'kubelab/pause',
      suite: 'bookworm',
      variant: 'scratch',
      packages: [],
      files: [{ path: '/pause', source: { file: binary, identity: pauseIdentity }, mode: 0o755 }],
      changes: ['USER 65535:65535', 'ENTRYPOINT ["/pause"]'],
    };
  },
};

// ---------------------------------------------------------------------------------------------
// busybox

/**
 * Debian's busybox-static, installed into a minbase rootfs only to take the static binary out of
 * it: the busybox images themselves are scratch images with /bin/busybox and its applet links.
 */
export const busyboxDonorRecipe: DebianImageRecipe = {
  repository: 'kubelab/busybox-donor',
  suite: 'bookworm',
  variant: 'minbase',
  packages: ['busybox-static'],
  changes: [PATH_ENV],
};

export interface BusyboxFiles {
  /** The static binary, on this machine. */
  binary: string;
  /** What it is (the donor recipe), for recipe file identities. */
  identity: string;
  /** Applet paths relative to / (bin/sh, usr/bin/awk, ...), from `busybox --list-full`. */
  applets: string[];
}

const busyboxIdentity = `debian ${busyboxDonorRecipe.suite} busybox-static (${recipeTag(busyboxDonorRecipe)})`;

/** The busybox binary and its applet list, taken from the donor image (built first if missing). */
export async function busyboxFiles(options: ForgeOptions = {}): Promise<BusyboxFiles> {
  const donorTag = recipeTag(busyboxDonorRecipe);
  const dir = join(forgeCacheDir(), `busybox-${donorTag.split(':')[1]}`);
  const binary = join(dir, 'busybox');
  if (!existsSync(binary)) {
    const donor = await ensureDebianImage(busyboxDonorRecipe, { signal: options.signal, onLine: options.onLine });
    await cachedFile(binary, async (temp) => {
      const name = `kubelab-busybox-donor-${process.pid}-${Date.now()}`;
      await run('docker', ['create', '--name', name, donor.tag, '/bin/busybox']);
      try {
        await run('docker', ['cp', `${name}:/bin/busybox`, temp]);
      } finally {
        await removeContainer(name);
      }
    });
  }
  const list = join(dir, 'applets');
  await cachedFile(list, async (temp) => {
    const { stdout } = await run(binary, ['--list-full']);
    await writeFile(temp, stdout);
  });
  const applets = (await readFile(list, 'utf8'))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && /^[a-z0-9/._[-]+$/i.test(line) && !line.includes('..') && line !== 'bin/busybox');
  if (!applets.includes('bin/sh')) throw new Error(`${binary} --list-full names no bin/sh applet`);
  return { binary, identity: busyboxIdentity, applets };
}

/** /bin/busybox plus a symlink per applet, and a minimal passwd/group as the busybox image has. */
export function busyboxRootFiles(files: BusyboxFiles): { files: RecipeFile[]; symlinks: Array<[string, string]> } {
  return {
    files: [
      { path: '/bin/busybox', source: { file: files.binary, identity: files.identity }, mode: 0o755 },
      { path: '/etc/passwd', source: { text: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' } },
      { path: '/etc/group', source: { text: 'root:x:0:\nnogroup:x:65534:\n' } },
    ],
    symlinks: files.applets.map((applet) => [`/${applet}`, '/bin/busybox']),
  };
}

export const busyboxImage: HelperImage = {
  name: 'busybox image',
  tag: BUSYBOX_IMAGE,
  sources: 'debian bookworm busybox-static (static binary and applet links in scratch)',
  estimateSeconds: 60,
  identity: `${busyboxIdentity}; applet links; passwd v1; CMD sh`,
  async recipe(options) {
    const root = busyboxRootFiles(await busyboxFiles(options));
    return {
      repository: 'kubelab/busybox',
      suite: 'bookworm',
      variant: 'scratch',
      packages: [],
      files: root.files,
      symlinks: root.symlinks,
      changes: [PATH_ENV, 'CMD ["sh"]'],
    };
  },
};

// ---------------------------------------------------------------------------------------------
// klipper-lb

/**
 * What k3s's servicelb runs for each LoadBalancer Service: upstream an Alpine image whose script
 * programs iptables. kubelab's stand-in (forge/klipper-lb) takes the same environment and writes
 * the same NAT with nftables through netlink, one static binary in scratch.
 */
export const klipperLbImage: HelperImage = {
  name: 'klipper-lb image',
  tag: KLIPPER_LB_IMAGE,
  sources: "kubelab's klipper-lb stand-in (forge/klipper-lb: DNAT and masquerade with nftables), static in scratch",
  estimateSeconds: 60,
  get identity() {
    return `klipper-lb stand-in ${localGoSourceHash('klipper-lb')}`;
  },
  async recipe(options) {
    const binary = await buildLocalGoProgram('klipper-lb', options);
    return {
      repository: 'kubelab/klipper-lb',
      suite: 'bookworm',
      variant: 'scratch',
      packages: [],
      files: [{ path: '/usr/bin/entry', source: { file: binary, identity: localGoSourceHash('klipper-lb') }, mode: 0o755 }],
      changes: ['ENTRYPOINT ["/usr/bin/entry"]'],
    };
  },
};
