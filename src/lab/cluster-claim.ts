import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { stateDir } from '../util/paths.js';

/** What a run writes while it uses a cluster: who, since when. */
export interface ClusterClaim {
  cluster: string;
  pid: number;
  command: string;
  since: string;
}

const claimPath = (cluster: string) => join(stateDir(), 'runs', `${cluster}.json`);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by someone else
  }
}

/** The live run that holds `cluster`, if any; a claim whose process is gone is stale and ignored. */
export async function claimHolder(cluster: string): Promise<ClusterClaim | undefined> {
  const text = await readFile(claimPath(cluster), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const claim = JSON.parse(text) as ClusterClaim;
  return isAlive(claim.pid) ? claim : undefined;
}

/**
 * Claims the clusters a run will create, delete or change, so that a second run of the same lesson
 * is refused (naming the first run's pid) instead of reusing, or deleting, the cluster under it.
 * The claim file is created exclusively; one left by a killed run (its pid gone) is taken over.
 * Returns the release, which the caller runs however the run ends.
 */
export async function claimClusters(clusters: readonly string[], command: string): Promise<() => Promise<void>> {
  await mkdir(join(stateDir(), 'runs'), { recursive: true });
  const taken: string[] = [];
  const release = async () => {
    for (const cluster of taken.splice(0)) await rm(claimPath(cluster), { force: true });
  };
  try {
    for (const cluster of clusters) {
      const claim: ClusterClaim = { cluster, pid: process.pid, command, since: new Date().toISOString() };
      const write = () => writeFile(claimPath(cluster), JSON.stringify(claim) + '\n', { flag: 'wx', mode: 0o600 });
      const created = await write().then(
        () => true,
        (error: NodeJS.ErrnoException) => {
          if (error.code !== 'EEXIST') throw error;
          return false;
        },
      );
      if (!created) {
        const holder = await claimHolder(cluster);
        if (holder) {
          throw new EnvironmentError(
            `cluster ${cluster} is in use by another kubelab run: pid ${holder.pid} (\`${holder.command}\`) since ${holder.since}`,
            'wait for that run to end, or run a second copy beside it under another name (--name) and free ports',
          );
        }
        await rm(claimPath(cluster), { force: true }); // stale: its run was killed
        await write();
      }
      taken.push(cluster);
    }
  } catch (error) {
    await release();
    throw error;
  }
  return release;
}
