import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProviderName } from '../cluster/spec.js';
import { EnvironmentError } from '../errors.js';
import { stateDir } from '../util/paths.js';
import { createExclusive, removeIfOwnerGone, thisProcess } from '../util/exclusive-file.js';
import { isSameProcess } from '../util/process.js';

/** What a run writes while it uses a cluster: who, since when. */
export interface ClusterClaim {
  cluster: string;
  provider: ProviderName;
  pid: number;
  /** processStart of that pid when it claimed: a later process that drew the same pid is not the holder. */
  start?: string;
  command: string;
  /** The run keeps the cluster (`--keep`, `up`): a leftover of a killed run is a leak only when false. */
  keep: boolean;
  since: string;
}

/** Where claims live: one file per cluster. */
export const claimsDir = () => join(stateDir(), 'runs');
const claimPath = (cluster: string) => join(claimsDir(), `${cluster}.json`);

/** Every claim on record, live or left by a killed run. */
export async function allClaims(): Promise<ClusterClaim[]> {
  const dir = claimsDir();
  const names = await readdir(dir).catch(() => [] as string[]);
  const claims = await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => readFile(join(dir, n), 'utf8').then((t) => JSON.parse(t) as ClusterClaim, () => undefined)));
  return claims.filter((c): c is ClusterClaim => c !== undefined);
}

/** Forgets a claim (`kubelab gc`, once its run is gone). */
export function dropClaim(cluster: string): Promise<void> {
  return rm(claimPath(cluster), { force: true });
}

/** Whether the run that wrote `claim` still runs (its pid, and that pid's process start, unchanged). */
export function claimIsLive(claim: ClusterClaim): boolean {
  return isSameProcess(claim.pid, claim.start);
}

/** Whether a live kubelab run other than this process holds a claim: it may push to or pull through the machine registry. */
export async function otherRunIsLive(): Promise<boolean> {
  return (await allClaims()).some((claim) => claim.pid !== process.pid && claimIsLive(claim));
}

/** The live run that holds `cluster`, if any; a claim whose process is gone is stale and ignored. */
export async function claimHolder(cluster: string): Promise<ClusterClaim | undefined> {
  const text = await readFile(claimPath(cluster), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const claim = JSON.parse(text) as ClusterClaim;
  return claimIsLive(claim) ? claim : undefined;
}

/**
 * Claims the clusters a run will create, delete or change, so that a second run of the same lesson
 * is refused (naming the first run's pid) instead of reusing, or deleting, the cluster under it.
 * The claim file is created exclusively; one left by a killed run (its process gone, even if its
 * pid now names another process) is taken over.
 * Returns the release, which the caller runs however the run ends.
 */
export async function claimClusters(
  clusters: ReadonlyArray<{ name: string; provider: ProviderName }>,
  run: { command: string; keep: boolean },
): Promise<() => Promise<void>> {
  await mkdir(claimsDir(), { recursive: true });
  const taken: string[] = [];
  const release = async () => {
    for (const cluster of taken.splice(0)) await rm(claimPath(cluster), { force: true });
  };
  try {
    for (const { name: cluster, provider } of clusters) {
      const claim: ClusterClaim = { cluster, provider, ...thisProcess(), ...run, since: new Date().toISOString() };
      const text = JSON.stringify(claim) + '\n';
      // A claim left by a killed run is removed, then created again; one made meanwhile by another run refuses this one.
      while (!(await createExclusive(claimPath(cluster), text))) {
        const holder = await claimHolder(cluster);
        if (holder) {
          throw new EnvironmentError(
            `cluster ${cluster} is in use by another kubelab run: pid ${holder.pid} (\`${holder.command}\`) since ${holder.since}`,
            'wait for that run to end, or run a second copy beside it under another name (--name) and free ports',
          );
        }
        await removeIfOwnerGone(claimPath(cluster));
      }
      taken.push(cluster);
    }
  } catch (error) {
    await release();
    throw error;
  }
  return release;
}
