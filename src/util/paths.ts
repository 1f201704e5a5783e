import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The kubelab package root (the folder with package.json, labs/, manifests/, apps/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('kubelab package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

/**
 * kubelab's own state (kubeconfigs, build stamps). Never ~/.kube: the user's config stays untouched.
 * KUBELAB_HOME overrides, which is how tests isolate themselves.
 */
export function stateDir(): string {
  if (process.env.KUBELAB_HOME) return process.env.KUBELAB_HOME;
  const base = process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state');
  return join(base, 'kubelab');
}

export function kubeconfigPath(clusterName: string): string {
  return join(stateDir(), 'kubeconfigs', `${clusterName}.yaml`);
}

/** Where kubelab keeps tools it builds itself (k3d, kind) when they are not on PATH. */
export function toolsDir(): string {
  return process.env.KUBELAB_TOOLS ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kubelab', 'tools');
}

/** Where forged binaries are kept between runs (beside the tools dir), each under a name that says its inputs. */
export function forgeCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kubelab', 'forge');
}
