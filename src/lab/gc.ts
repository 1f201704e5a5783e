import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeKubeconfig } from '../cluster/kubeconfig-file.js';
import { deleteCluster } from '../cluster/teardown.js';
import { PROVIDERS, providerFor } from '../cluster/registry.js';
import type { ProviderName } from '../cluster/spec.js';
import { stateDir } from '../util/paths.js';
import { isAlive, startedAfterChange } from '../util/process.js';
import { tempDirOwner } from '../util/temp.js';
import { allClaims, claimIsLive, claimsDir, dropClaim, otherRunIsLive } from './cluster-claim.js';
import { MACHINE_REGISTRY_CONTAINER, machineRegistryNetworks, removeNetworkUnlessUsed, retireMachineRegistry } from '../cluster/machine-registry.js';
import { abandonedLocks, locksDir } from '../util/machine-lock.js';
import { abandonedFiles } from '../util/exclusive-file.js';

/** Something a run left behind and how to remove it. */
export interface Leftover {
  what: string;
  remove(): Promise<void>;
}

/**
 * What runs that were killed (SIGKILL, a crashed machine) left behind, with no live run owning it:
 * the clusters they would have deleted and their claims, kubeconfigs in kubelab's state dir of
 * clusters that no longer exist, the machine registry's container once nothing needs it (and a
 * cluster network it alone is left on), and lock files, partial writes, takeover guards and kubelab
 * temp dirs of processes that are gone. Clusters a run was told to keep (`--keep`, `up`) are left alone.
 */
export async function findLeftovers(signal?: AbortSignal): Promise<Leftover[]> {
  // Each provider's clusters, listed once (undefined where its CLI or docker is missing).
  const clustersOn = new Map<ProviderName, Set<string> | undefined>();
  for (const name of PROVIDERS) {
    const provider = providerFor(name);
    const clusters = await provider.ensureAvailable().then(() => provider.list({ signal }), () => undefined);
    clustersOn.set(name, clusters && new Set(clusters.map((cluster) => cluster.name)));
  }
  const leftovers: Leftover[] = [];
  const live = new Set<string>();
  const leaked = new Set<string>();
  for (const claim of await allClaims()) {
    if (claimIsLive(claim)) {
      live.add(claim.cluster);
      continue;
    }
    const provider = providerFor(claim.provider);
    const exists = !claim.keep && clustersOn.get(claim.provider)?.has(claim.cluster) === true;
    const by = `\`${claim.command}\`, pid ${claim.pid}, since ${claim.since}`;
    if (exists) leaked.add(claim.cluster);
    leftovers.push(
      exists
        ? {
            what: `${claim.provider} cluster ${claim.cluster} (left by ${by})`,
            remove: async () => {
              await deleteCluster(provider, claim.cluster, { signal });
              await removeKubeconfig(claim.cluster);
              await dropClaim(claim.cluster);
            },
          }
        : { what: `claim on ${claim.cluster} (by ${by})`, remove: () => dropClaim(claim.cluster) },
    );
  }

  // A kubeconfig is stale once its cluster exists on no provider; unknowable while a provider's CLI is missing.
  const existing = new Set([...clustersOn.values()].flatMap((names) => [...(names ?? [])]));
  const allListed = [...clustersOn.values()].every((names) => names !== undefined);
  const kubeconfigs = await readdir(join(stateDir(), 'kubeconfigs')).catch(() => [] as string[]);
  for (const file of kubeconfigs.filter((f) => f.endsWith('.yaml'))) {
    const cluster = file.slice(0, -'.yaml'.length);
    if (!allListed || existing.has(cluster) || live.has(cluster) || leaked.has(cluster)) continue;
    leftovers.push({ what: `kubeconfig ${join(stateDir(), 'kubeconfigs', file)} (cluster ${cluster} no longer exists)`, remove: () => removeKubeconfig(cluster) });
  }

  // The registry's container, once no cluster that stays and no live run needs it (its images stay).
  const registryNetworks = await machineRegistryNetworks({ signal });
  if (registryNetworks && allListed && live.size === 0) {
    const needed = new Set<string>();
    for (const [name, clusters] of clustersOn) for (const cluster of clusters ?? []) if (!leaked.has(cluster)) needed.add(providerFor(name).network(cluster));
    if (!registryNetworks.some((network) => needed.has(network))) {
      // A cluster deleted outside kubelab (`kind delete cluster`) leaves its network holding the registry.
      const orphaned = registryNetworks.length ? ` and network ${registryNetworks.join(', ')} (no cluster left on it)` : '';
      leftovers.push({
        what: `registry container ${MACHINE_REGISTRY_CONTAINER} (no cluster or run needs it; its images kept)${orphaned}`,
        remove: async () => {
          for (const network of registryNetworks) await removeNetworkUnlessUsed(network);
          if (await retireMachineRegistry(otherRunIsLive, { signal })) return;
          const still = await machineRegistryNetworks({ signal });
          if (still === undefined) return; // removed meanwhile
          throw new Error(still.length ? `kept: still on ${still.join(', ')}, where other containers are` : 'kept: a run started meanwhile may need it');
        },
      });
    }
  }

  for (const lock of await abandonedLocks()) leftovers.push({ what: `lock file ${lock.path} (pid ${lock.pid} is gone)`, remove: lock.release });
  for (const dir of [locksDir(), claimsDir()]) {
    for (const file of await abandonedFiles(dir)) {
      const what = file.path.endsWith('.partial') ? 'partial write' : 'takeover guard';
      leftovers.push({ what: `${what} ${file.path} (pid ${file.pid} is gone)`, remove: () => rm(file.path, { force: true }) });
    }
  }

  for (const name of await readdir(tmpdir())) {
    const owner = tempDirOwner(name);
    if (owner === undefined) continue;
    const path = join(tmpdir(), name);
    const reused = isAlive(owner);
    if (reused && !(await startedAfterChange(owner, path))) continue;
    const why = reused ? `pid ${owner} now belongs to a later process` : `pid ${owner} is gone`;
    leftovers.push({ what: `temp dir ${path} (${why})`, remove: () => rm(path, { recursive: true, force: true }) });
  }
  return leftovers;
}
