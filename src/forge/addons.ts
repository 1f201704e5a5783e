import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspectImage, tagImage } from '../docker/engine.js';
import { ensureDebianImage, recipeHash, recipeTag, RECIPE_LABEL, type DebianImageRecipe, type RecipeFile } from '../images/base.js';
import { packageRoot } from '../util/paths.js';
import { buildGoModule, goBuildSource, type GoBuild } from './go-build.js';
import { goBuildIdentity } from './go-tool.js';
import type { ForgeItem, ForgeOptions, ForgeResult, ForgeStatus } from './types.js';
import { makeTempDir } from '../util/temp.js';

/**
 * The add-on images a k3s server runs (CoreDNS, metrics-server, local-path-provisioner) and the
 * Traefik ingress controller kubelab deploys itself, built from their Go modules because no
 * registry can be reached. Each is one static binary (CGO off) in an otherwise empty image with
 * the upstream image's entrypoint, content-addressed as `kubelab/<name>:<recipe hash>` and then
 * tagged exactly as k3s asks for it (k3s v1.32.0+k3s1, scripts/airgap/image-list.txt), so that
 * containerd finds it and never pulls.
 */

const PATH_ENV = 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Users the upstream bases (distroless) know, so `USER 65534`/`65532` map to names. */
const PASSWD: RecipeFile = {
  path: '/etc/passwd',
  source: { text: 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' },
  mode: 0o644,
};
const GROUP: RecipeFile = {
  path: '/etc/group',
  source: { text: 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' },
  mode: 0o644,
};

export interface AddonImage {
  /** The forge item's name. */
  name: string;
  /** The tag k3s (or kubelab's manifest) refers to. */
  tag: string;
  build: GoBuild;
  /** Where the binary goes in the image. */
  binaryPath: string;
  /** Files the image holds besides the binary (e.g. a default config). */
  files?: readonly RecipeFile[];
  /** `docker import --change` lines: ENTRYPOINT, USER, EXPOSE... */
  changes: string[];
  /** `docker run <tag> ...` arguments that print the version and exit 0 (for checks). */
  versionArgs: string[];
  estimateSeconds: number;
}

// --- CoreDNS -----------------------------------------------------------------------------------

export const COREDNS_VERSION = 'v1.12.0';
export const COREDNS_IMAGE = 'rancher/mirrored-coredns-coredns:1.12.0';

/**
 * Upstream: distroless static, USER nonroot, and `setcap cap_net_bind_service` on /coredns so that
 * the non-root user may bind :53. `docker import` of a plain tar keeps no file capabilities, so this
 * image stays root; k3s's coredns Deployment drops all capabilities but NET_BIND_SERVICE anyway.
 */
export const corednsAddon: AddonImage = {
  name: 'coredns',
  tag: COREDNS_IMAGE,
  build: {
    name: 'coredns',
    module: 'github.com/coredns/coredns',
    version: COREDNS_VERSION,
    // As its Makefile: the release commit (v1.12.0 = 51e11f1).
    ldflags: ['github.com/coredns/coredns/coremain.GitCommit=51e11f166ef6c247a78e9e15468647c593b79b9f'],
  },
  binaryPath: '/coredns',
  changes: ['WORKDIR /', 'EXPOSE 53 53/udp', 'ENTRYPOINT ["/coredns"]'],
  versionArgs: ['-version'],
  estimateSeconds: 360,
};

// --- metrics-server ----------------------------------------------------------------------------

export const METRICS_SERVER_VERSION = 'v0.7.2';
export const METRICS_SERVER_IMAGE = 'rancher/mirrored-metrics-server:v0.7.2';

/** Upstream Dockerfile: distroless static, /metrics-server, USER 65534; Makefile stamps client-go's version. */
export const metricsServerAddon: AddonImage = {
  name: 'metrics-server',
  tag: METRICS_SERVER_IMAGE,
  build: {
    name: 'metrics-server',
    module: 'sigs.k8s.io/metrics-server',
    version: METRICS_SERVER_VERSION,
    pkg: './cmd/metrics-server',
    ldflags: [
      `k8s.io/client-go/pkg/version.gitVersion=${METRICS_SERVER_VERSION}`,
      'k8s.io/client-go/pkg/version.gitCommit=096960107da4a1b2e2ec83b2ac3424248cfc0ad5',
      'k8s.io/client-go/pkg/version.buildDate=2024-08-27T19:12:48Z',
    ],
  },
  binaryPath: '/metrics-server',
  changes: ['USER 65534', 'ENTRYPOINT ["/metrics-server"]'],
  versionArgs: ['--version'],
  estimateSeconds: 420,
};

// --- local-path-provisioner --------------------------------------------------------------------

export const LOCAL_PATH_VERSION = 'v0.0.30';
export const LOCAL_PATH_IMAGE = 'rancher/local-path-provisioner:v0.0.30';

/**
 * Upstream package/Dockerfile: alpine, /usr/bin/local-path-provisioner, CMD ["local-path-provisioner"]
 * (k3s's Deployment runs `local-path-provisioner start --config ...`, found through PATH).
 * Its volume helper pods use a separate busybox image (rancher/mirrored-library-busybox), not built here.
 */
export const localPathAddon: AddonImage = {
  name: 'local-path-provisioner',
  tag: LOCAL_PATH_IMAGE,
  build: {
    name: 'local-path-provisioner',
    module: 'github.com/rancher/local-path-provisioner',
    version: LOCAL_PATH_VERSION,
    ldflags: [`main.VERSION=${LOCAL_PATH_VERSION}`],
  },
  binaryPath: '/usr/bin/local-path-provisioner',
  changes: [PATH_ENV, 'CMD ["local-path-provisioner"]'],
  // No ENTRYPOINT (as upstream): the command names the binary.
  versionArgs: ['local-path-provisioner', '--version'],
  estimateSeconds: 300,
};

// --- Traefik -----------------------------------------------------------------------------------

/**
 * v3.5.3: fully served by the proxy (v3.3.6's .mod is refused, v3.5.2 entirely). k3s packages
 * Traefik as a HelmChart that needs the internet; kubelab disables it and applies TRAEFIK_MANIFEST.
 */
export const TRAEFIK_VERSION = 'v3.5.3';
export const TRAEFIK_IMAGE = 'rancher/mirrored-library-traefik:3.5.3';
/** kubelab's own Traefik manifest (k3s applies it from /var/lib/rancher/k3s/server/manifests/). */
export const TRAEFIK_MANIFEST = join(packageRoot(), 'forge', 'manifests', 'kubelab-traefik.yaml');
/** kubelab's metrics-server manifest for kind clusters (k3s deploys its own). */
export const METRICS_SERVER_MANIFEST = join(packageRoot(), 'forge', 'manifests', 'kubelab-metrics-server.yaml');

/** Upstream Dockerfile: /traefik, EXPOSE 80, VOLUME /tmp, ENTRYPOINT ["/traefik"], root. */
export const traefikAddon: AddonImage = {
  name: 'traefik',
  tag: TRAEFIK_IMAGE,
  build: {
    name: 'traefik',
    module: 'github.com/traefik/traefik/v3',
    version: TRAEFIK_VERSION,
    pkg: './cmd/traefik',
    ldflags: [
      `github.com/traefik/traefik/v3/pkg/version.Version=${TRAEFIK_VERSION}`,
      'github.com/traefik/traefik/v3/pkg/version.Codename=chabichou',
      'github.com/traefik/traefik/v3/pkg/version.BuildDate=2025-09-26T08:46:03Z',
    ],
    // webui/static is filled by a node build in a release; the module zip holds only a README there.
    // go:embed needs the directory to hold a file; the dashboard is not enabled by kubelab.
    prepare: async (tree) => {
      const dir = join(tree, 'webui', 'static');
      await mkdir(dir, { recursive: true });
      if (!existsSync(join(dir, 'index.html'))) {
        await writeFile(join(dir, 'index.html'), '<!doctype html><title>Traefik</title><p>The dashboard is not built into this image (kubelab).</p>\n');
      }
    },
  },
  binaryPath: '/traefik',
  changes: ['EXPOSE 80', 'VOLUME ["/tmp"]', 'ENTRYPOINT ["/traefik"]'],
  versionArgs: ['version'],
  estimateSeconds: 900,
};

/**
 * Smallest build first: they share the CPU with whatever else forge builds. Measured cold on 2 shared
 * cores (a k3s build alongside): local-path 266 s, metrics-server 394 s, CoreDNS 341 s, Traefik 643 s.
 */
export const ADDON_IMAGES: readonly AddonImage[] = [localPathAddon, metricsServerAddon, corednsAddon, traefikAddon];

/** Every tag k3s (and kubelab's Traefik manifest) needs from these images. */
export const ADDON_IMAGE_TAGS: readonly string[] = ADDON_IMAGES.map((addon) => addon.tag);

/** Bumped when how the binary is built (e.g. a prepare hook) changes without the GoBuild changing. */
const ADDON_PROCEDURE = 'addon-v1';

export function addonRecipe(addon: AddonImage, binary = '/nonexistent'): DebianImageRecipe {
  return {
    repository: `kubelab/${addon.name}`,
    suite: 'bookworm',
    variant: 'scratch',
    packages: [],
    files: [
      PASSWD,
      GROUP,
      { path: addon.binaryPath, source: { file: binary, identity: `${goBuildIdentity(addon.build)} ${ADDON_PROCEDURE}` }, mode: 0o755 },
      ...(addon.files ?? []),
    ],
    changes: addon.changes,
  };
}

/** Present when the exact tag is this recipe's image (another build under the same tag is not). */
export async function addonImageStatus(addon: AddonImage): Promise<ForgeStatus> {
  const image = await inspectImage(addon.tag);
  if (!image || image.labels[RECIPE_LABEL] !== recipeHash(addonRecipe(addon))) return { present: false, location: addon.tag };
  return { present: true, location: addon.tag, sizeBytes: image.sizeBytes };
}

/**
 * Builds the binary (unless the content-addressed image exists), imports it as
 * `kubelab/<name>:<hash>` and tags that image with the exact tag.
 */
export async function ensureAddonImage(addon: AddonImage, options: ForgeOptions = {}): Promise<ForgeResult> {
  const started = performance.now();
  const current = await addonImageStatus(addon);
  if (current.present && !options.force) return { ...current, skipped: true, durationMs: performance.now() - started };

  const recipe = addonRecipe(addon);
  const hashed = recipeTag(recipe);
  const built = await inspectImage(hashed);
  if (!built || built.labels[RECIPE_LABEL] !== recipeHash(recipe) || options.force) {
    const work = await makeTempDir(addon.name);
    try {
      const binary = join(work, addon.name);
      await buildGoModule(addon.build, binary, work, options);
      await ensureDebianImage(addonRecipe(addon, binary), { force: options.force, signal: options.signal, onLine: options.onLine });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  await tagImage(hashed, addon.tag);
  const status = await addonImageStatus(addon);
  if (!status.present) throw new Error(`${addon.tag} was tagged from ${hashed} but does not carry its recipe`);
  return { ...status, skipped: false, durationMs: performance.now() - started };
}

export function addonItem(addon: AddonImage): ForgeItem {
  return {
    name: addon.name,
    kind: 'image',
    location: addon.tag,
    sources: goBuildSource(addon.build),
    estimateSeconds: addon.estimateSeconds,
    status: () => addonImageStatus(addon),
    ensure: (options) => ensureAddonImage(addon, options),
  };
}

/** The forge items, smallest build first (catalog.ts registers them). */
export function addonItems(): ForgeItem[] {
  return ADDON_IMAGES.map(addonItem);
}
