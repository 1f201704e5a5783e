import { FORGED_K3S_IMAGE } from '../cluster/k3d.js';
import { EnvironmentError } from '../errors.js';
import { inspectImage } from '../docker/engine.js';
import { ensureDebianImage, nginxBaseRecipe, pythonBaseRecipe, recipeTag, type DebianImageRecipe } from '../images/base.js';
import { ensureGoTool, goToolSource, goToolStatus, type GoTool } from './go-tool.js';
import type { ForgeItem, ForgeStatus } from './types.js';

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
    sources: goToolSource(tool),
    estimateSeconds,
    status: () => goToolStatus(tool),
    ensure: (options) => ensureGoTool(tool, options),
  };
}

function debianImageItem(name: string, recipe: DebianImageRecipe): ForgeItem {
  const tag = recipeTag(recipe);
  const status = async (): Promise<ForgeStatus> => {
    const image = await inspectImage(tag);
    return image ? { present: true, location: tag, sizeBytes: image.sizeBytes } : { present: false, location: tag };
  };
  return {
    name,
    kind: 'image',
    sources: `debian ${recipe.suite} ${recipe.variant}: ${recipe.packages.join(' ')}`,
    estimateSeconds: 60,
    status,
    async ensure(options) {
      const result = await ensureDebianImage(recipe, options);
      return { present: true, location: result.tag, sizeBytes: result.sizeBytes, skipped: result.skipped, durationMs: result.durationMs };
    },
  };
}

/**
 * The k3s node image cannot be built on this kind of machine today: the Go module proxy it reaches
 * answers 403 for every version of github.com/k3s-io/k3s, and neither Debian nor any package
 * registry ships k3s. The item stays in the catalog so that `forge --list` and `doctor` say so.
 */
const K3S_NODE_IMAGE = FORGED_K3S_IMAGE;
const k3sNodeImage: ForgeItem = {
  name: 'k3s node image',
  kind: 'image',
  sources: 'github.com/k3s-io/k3s@v1.32.5+k3s1 (not served by the Go module proxy)',
  async status() {
    const image = await inspectImage(K3S_NODE_IMAGE);
    return image ? { present: true, location: K3S_NODE_IMAGE, sizeBytes: image.sizeBytes } : { present: false, location: K3S_NODE_IMAGE };
  },
  async ensure() {
    const present = await this.status();
    if (present.present) return { ...present, skipped: true, durationMs: 0 };
    throw new EnvironmentError(
      'the k3s node image cannot be built here: the Go module proxy answers 403 (not available) for github.com/k3s-io/k3s',
      `load a k3s image into docker (docker load -i k3s.tar; docker tag <it> ${K3S_NODE_IMAGE}) or pass --image to use another`,
    );
  },
};

export function forgeItems(): ForgeItem[] {
  return [
    toolItem(k3dTool, 240),
    toolItem(kindTool, 120),
    debianImageItem('python base', pythonBaseRecipe),
    debianImageItem('nginx base', nginxBaseRecipe),
    k3sNodeImage,
  ];
}
