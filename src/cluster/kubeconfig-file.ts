import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { kubeconfigPath } from '../util/paths.js';

/** Saves a cluster's kubeconfig (it holds a client key) as 0600 in kubelab's state dir. */
export async function saveKubeconfig(clusterName: string, content: string): Promise<string> {
  const path = kubeconfigPath(clusterName);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, content.endsWith('\n') ? content : content + '\n', { mode: 0o600 });
  await chmod(path, 0o600);
  return path;
}

export async function removeKubeconfig(clusterName: string): Promise<void> {
  await rm(kubeconfigPath(clusterName), { force: true });
}
