import { join } from 'node:path';
import { inspectImage } from '../docker/engine.js';
import { COURSE_BASE_IMAGE, COURSE_NGINX_IMAGE, ensureDebianImage, nginxBaseRecipe, pythonBaseRecipe, recipeTag, type DebianImageRecipe } from '../images/base.js';
import { UPSTREAM_K3S_IMAGE, upstreamK3sCaveat } from '../images/upstream-k3s.js';
import { addonItems } from './addons.js';
import { ensureGoTool, goToolSource, goToolStatus, type GoTool } from './go-tool.js';
import { toolsDir } from '../util/paths.js';
import { helperImageItems } from './k3d-helpers.js';
import { k3sNodeImageItem, KUBELAB_K3S_NODE_INPUTS } from './k3s.js';
import { kindImageItems } from './kind/images.js';
import { kindNodeImageItem } from './kind/node-image.js';
import { registryImageItem } from './registry-image.js';
import { DEFAULT_FORGE_JOBS, ForgeQueue } from './queue.js';
import type { ForgeItem, ForgeOptions, ForgeStatus } from './types.js';

export const K3D_VERSION = 'v5.9.0';

/** k3d as its release is built: the version stamped in (its default k3s tag stays k3d's own). */
export const k3dTool: GoTool = {
  name: 'k3d',
  module: 'github.com/k3d-io/k3d/v5',
  version: K3D_VERSION,
  ldflags: [`github.com/k3d-io/k3d/v5/version.Version=${K3D_VERSION}`],
};

/** kind carries its version in source, no ldflags needed. */
export const kindTool: GoTool = { name: 'kind', module: 'sigs.k8s.io/kind', version: 'v0.31.0' };

/** The Go tool kubelab builds under that name, if any. */
export function goToolNamed(name: string): GoTool | undefined {
  return [k3dTool, kindTool].find((tool) => tool.name === name);
}

function toolItem(tool: GoTool, estimateSeconds: number): ForgeItem {
  return {
    name: tool.name,
    kind: 'tool',
    location: join(toolsDir(), tool.name),
    sources: goToolSource(tool),
    estimateSeconds,
    status: () => goToolStatus(tool),
    ensure: (options) => ensureGoTool(tool, options),
  };
}

/** A lesson base, `upstream` the course's own image it stands in for. */
function debianImageItem(name: string, recipe: DebianImageRecipe, upstream: string): ForgeItem {
  const tag = recipeTag(recipe);
  const status = async (): Promise<ForgeStatus> => {
    const image = await inspectImage(tag);
    return image ? { present: true, location: tag, sizeBytes: image.sizeBytes } : { present: false, location: tag };
  };
  return {
    name,
    kind: 'image',
    location: tag,
    sources: `debian ${recipe.suite} ${recipe.variant}: ${recipe.packages.join(' ')}`,
    estimateSeconds: 60,
    upstream: [upstream],
    status,
    async ensure(options) {
      const result = await ensureDebianImage(recipe, options);
      return { present: true, location: result.tag, sizeBytes: result.sizeBytes, skipped: result.skipped, durationMs: result.durationMs };
    },
  };
}

/**
 * In build order: tools, the lesson bases, the images k3s and k3d run (and k3d's registry), and
 * last the node images, which carry the images before them.
 */
export function forgeItems(): ForgeItem[] {
  return [
    toolItem(k3dTool, 240),
    toolItem(kindTool, 120),
    debianImageItem('python base', pythonBaseRecipe, COURSE_BASE_IMAGE),
    debianImageItem('nginx base', nginxBaseRecipe, COURSE_NGINX_IMAGE),
    ...helperImageItems(),
    ...addonItems(),
    registryImageItem(),
    {
      ...k3sNodeImageItem(),
      needs: KUBELAB_K3S_NODE_INPUTS.airgapImages,
      upstream: [UPSTREAM_K3S_IMAGE],
      pullCaveat: upstreamK3sCaveat,
    },
    ...kindImageItems(),
    // kindest/node cannot stand in: kind clusters get their add-ons from manifests kubelab's image carries.
    { ...kindNodeImageItem(), upstream: [] },
  ];
}

/** One entry of a forge plan: an item, whether it was asked for, and whether it will build. */
export interface PlannedItem {
  item: ForgeItem;
  asked: boolean;
  builds: boolean;
}

/**
 * The asked-for items plus, for each one that will build (missing, or forced), the missing items
 * that make what it needs, transitively, in build order. Forcing applies to asked items only.
 */
export async function forgePlan(asked: readonly string[], force = false, all: readonly ForgeItem[] = forgeItems()): Promise<PlannedItem[]> {
  const byLocation = new Map(all.map((item) => [item.location, item]));
  const planned = new Map<string, PlannedItem>();
  // The asked-for items are checked at once; their makers only when something will build.
  const askedPresent = new Map(
    await Promise.all(all.filter((item) => asked.includes(item.name)).map(async (item) => [item.name, (await item.status()).present] as const)),
  );
  const visit = async (item: ForgeItem, isAsked: boolean): Promise<void> => {
    if (planned.has(item.name)) return;
    const builds = (isAsked && force) || !(askedPresent.get(item.name) ?? (await item.status()).present);
    if (!builds && !isAsked) return;
    planned.set(item.name, { item, asked: isAsked, builds });
    if (!builds) return;
    for (const need of item.needs ?? []) {
      const maker = byLocation.get(need);
      if (maker) await visit(maker, false);
    }
  };
  for (const item of all) if (asked.includes(item.name)) await visit(item, true);
  return all.flatMap((item) => planned.get(item.name) ?? []);
}

/**
 * Builds the forge images among `tags` that are missing, after the missing items they are made
 * from (a node image carries add-on images), side by side where they do not depend on each other.
 * Tags no item makes are left for the caller's own check.
 */
export async function forgeImages(tags: readonly string[], options: ForgeOptions = {}): Promise<void> {
  const asked = forgeItems().filter((item) => item.kind === 'image' && tags.includes(item.location));
  const toBuild = (await forgePlan(asked.map((item) => item.name))).filter((entry) => entry.builds).map((entry) => entry.item);
  const queue = new ForgeQueue(toBuild, DEFAULT_FORGE_JOBS);
  const builds = toBuild.map((item) =>
    queue.run(item, async () => {
      const estimate = item.estimateSeconds ? `, about ${Math.ceil(item.estimateSeconds / 60)} min the first time` : '';
      options.onLine?.(`forging ${item.location} from ${item.sources}${estimate}`);
      await item.ensure({ ...options, force: false });
    }),
  );
  const failures = (await Promise.allSettled(builds)).flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as Error] : []));
  if (failures.length > 0) throw failures[0];
}
