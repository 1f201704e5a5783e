import { waitForDocker } from '../docker/engine.js';
import { thawContainers } from '../docker/frozen-cgroups.js';
import { run, runAllowingFailure } from '../util/exec.js';
import { containersWithLabel } from './node-logs.js';
import type { ClusterProvider, ProviderCallOptions } from './provider.js';

/** How long a teardown waits for a Docker daemon that is away (restarting) before it gives up. */
const DAEMON_AWAY_MS = 120_000;
const ATTEMPTS = 3;

/** Docker names an anonymous volume (an image's VOLUME, such as a k3s node's four) by 64 hex digits. */
const ANONYMOUS_VOLUME = /^[0-9a-f]{64}$/;

/** The anonymous volumes of the containers carrying `label`. */
async function anonymousVolumes(label: string, options: ProviderCallOptions): Promise<string[]> {
  const ids = (await run('docker', ['ps', '-aq', '--filter', `label=${label}`], { signal: options.signal })).stdout.split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const format = '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}';
  const { stdout } = await run('docker', ['inspect', '--format', format, ...ids], { signal: options.signal });
  return stdout.split(/\s+/).filter((name) => ANONYMOUS_VOLUME.test(name));
}

/**
 * Deletes a cluster and proves it gone by its containers. `k3d cluster delete` exits 0 ("No clusters
 * found") when it cannot reach Docker: during a daemon restart that leaves every node for the
 * restart policy to bring back. So the daemon must answer first, and no container may carry the
 * cluster's label afterwards, nor any anonymous volume its containers had; a delete that failed or
 * left containers is tried again (three times), after thawing any cgroup frozen inside its nodes.
 */
export async function deleteCluster(provider: ClusterProvider, name: string, options: ProviderCallOptions = {}): Promise<void> {
  let why = '';
  const volumes = new Set<string>();
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    await waitForDocker(DAEMON_AWAY_MS, options.signal);
    if (attempt > 1) await thawLeftNodes(provider, name, options);
    // Removed with their containers, unless a daemon going away cut the delete short: then by name.
    for (const volume of await anonymousVolumes(provider.nodeLabel(name), options).catch(() => [])) volumes.add(volume);
    try {
      // Cut short when the daemon goes away mid-delete ("docker failed to list volumes"): try again.
      await provider.delete(name, options);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      why = (error as Error).message;
      continue;
    }
    try {
      const left = await containersWithLabel(provider.nodeLabel(name), options);
      if (left.length === 0) return await removeVolumes([...volumes]);
      why = `${left.map((c) => c.name).join(', ')} still there after ${provider.deleteCommand(name)}`;
    } catch (error) {
      why = `the Docker daemon stopped answering during the delete: ${(error as Error).message}`;
    }
  }
  throw new Error(why);
}

/** A node whose kill did not land may hold a frozen cgroup (docker/frozen-cgroups.ts): thawed, the next delete can remove it. */
async function thawLeftNodes(provider: ClusterProvider, name: string, options: ProviderCallOptions): Promise<void> {
  const left = await containersWithLabel(provider.nodeLabel(name), options).catch(() => []);
  const thawed = await thawContainers(left.map((node) => node.name));
  if (thawed.length > 0) options.onLine?.(`thawed ${thawed.length} frozen cgroup(s) in ${left.map((node) => node.name).join(', ')}`);
}

/** Removes what is left of `volumes` (most went with their containers). */
async function removeVolumes(volumes: string[]): Promise<void> {
  for (const volume of volumes) {
    const removed = await runAllowingFailure('docker', ['volume', 'rm', volume]);
    if (removed.exitCode !== 0 && !/no such volume/i.test(removed.stderr)) throw new Error(`docker volume rm ${volume}: ${removed.stderr.trim()}`);
  }
}
