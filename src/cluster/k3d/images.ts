import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { run, runAllowingFailure } from '../../util/exec.js';
import { makeTempDir } from '../../util/temp.js';

/** Kubernetes' containerd namespace: images the kubelet sees live there. */
const K8S_NAMESPACE = 'k8s.io';

export interface NodeImportOptions {
  /** A directory every node mounts from one volume (k3d's image volume is /k3d/images). */
  sharedDir: string;
  signal?: AbortSignal;
  onLine?: (line: string) => void;
}

/**
 * Puts local docker images into the containerd of every node container: one `docker save`, one copy
 * into the directory the nodes share, then `ctr images import` from that file on each node side by
 * side (k3d's direct mode saves and streams once per node). Measured for 4 nodes on 2 cores, the
 * wall time is about k3d's (20-23 s against 19-26 s right after the cluster boots, about 9 s on a
 * settled cluster): the nodes' own post-boot disk work dominates either way.
 */
export async function importIntoNodes(nodes: readonly string[], images: readonly string[], options: NodeImportOptions): Promise<void> {
  const [first] = nodes;
  if (first === undefined) throw new Error(`no node containers to import ${images.join(', ')} into`);
  if (images.length === 0) return;
  const { signal, onLine } = options;
  const dir = await makeTempDir('images');
  const archive = join(dir, 'images.tar');
  const shared = `${options.sharedDir}/${basename(dir)}.tar`;
  try {
    onLine?.(`docker save ${images.join(' ')}`);
    await run('docker', ['save', '--output', archive, ...images], { signal });
    await run('docker', ['cp', archive, `${first}:${shared}`], { signal });
    await Promise.all(
      nodes.map(async (node) => {
        await run('docker', ['exec', node, 'ctr', '--namespace', K8S_NAMESPACE, 'images', 'import', shared], { signal });
        onLine?.(`imported ${images.join(', ')} into ${node}`);
      }),
    );
  } finally {
    await runAllowingFailure('docker', ['exec', first, 'rm', '-f', shared]);
    await rm(dir, { recursive: true, force: true });
  }
}
