/**
 * Cluster claims between real processes: a run's claim refuses a second run of the same cluster
 * while the first process lives, and is taken over once it is gone (a run killed with SIGKILL
 * cannot release it).
 */
import { describe, expect, test } from '@jest/globals';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError } from '../../src/errors.js';
import { claimClusters, claimHolder } from '../../src/lab/cluster-claim.js';
import { processStart } from '../../src/util/process.js';
import { isolatedStateDir } from '../support/state-dir.js';

const stateDir = isolatedStateDir('kubelab-claims-');
const runs = () => join(stateDir(), 'runs');

/** A claim file as another kubelab process would have written it. */
async function claimedBy(cluster: string, pid: number, start = processStart(pid)): Promise<void> {
  await writeFile(join(runs(), `${cluster}.json`), JSON.stringify({ cluster, provider: 'k3d', pid, start, command: 'run lesson-1', keep: false, since: '2026-12-02T00:00:00.000Z' }));
}

describe('cluster claims', () => {
  test('a claim names this process, is private, and is gone once released', async () => {
    const release = await claimClusters([{ name: 'web', provider: 'k3d' }], { command: 'run lesson-1', keep: false });
    const file = join(runs(), 'web.json');
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ cluster: 'web', provider: 'k3d', pid: process.pid, command: 'run lesson-1', keep: false });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await expect(claimClusters([{ name: 'web', provider: 'k3d' }], { command: 'run lesson-1', keep: false })).rejects.toThrow(`cluster web is in use by another kubelab run: pid ${process.pid}`);
    await release();
    expect(await readdir(runs())).toEqual([]);
  });

  test('a live process holding the claim refuses the run; once it is killed the claim is taken over', async () => {
    const other = execa('sleep', ['60'], { reject: false });
    try {
      await claimedBy('api', other.pid!);
      const refused = await claimClusters([{ name: 'free', provider: 'k3d' }, { name: 'api', provider: 'k3d' }], { command: 'run lesson-3', keep: false }).then(() => undefined, (e: unknown) => e);
      expect(refused).toBeInstanceOf(EnvironmentError);
      expect((refused as Error).message).toBe(`cluster api is in use by another kubelab run: pid ${other.pid} (\`run lesson-1\`) since 2026-12-02T00:00:00.000Z`);
      // Refused as a whole: the claim it had already taken is released.
      expect(await readdir(runs())).toEqual(['api.json']);
    } finally {
      other.kill('SIGKILL');
      await other;
    }
    expect(await claimHolder('api')).toBeUndefined();
    const release = await claimClusters([{ name: 'api', provider: 'k3d' }], { command: 'run lesson-3', keep: false });
    expect((await claimHolder('api'))?.pid).toBe(process.pid);
    await release();
  });

  test('a claim whose pid a later process drew is stale: the run takes it over', async () => {
    const other = execa('sleep', ['60'], { reject: false });
    try {
      // The pid is alive, but the claim was written by a process that started at another tick.
      await claimedBy('reused', other.pid!, `${processStart(other.pid!)!.split(':')[0]}:1`);
      expect(await claimHolder('reused')).toBeUndefined();
      const release = await claimClusters([{ name: 'reused', provider: 'k3d' }], { command: 'run lesson-2', keep: false });
      expect((await claimHolder('reused'))?.pid).toBe(process.pid);
      await release();
    } finally {
      other.kill('SIGKILL');
      await other;
    }
  });
});
