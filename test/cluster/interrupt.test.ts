/**
 * Ctrl-C in the middle of a run: kubelab stops, deletes the half-made cluster and exits 130, leaving
 * no container, volume or network behind (listr2's own SIGINT handler once exited at once, code 127,
 * leaving the cluster behind; this guards against that).
 */
import { describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';

const CLUSTER = 'yadoc-exposed';

async function leftovers(): Promise<string[]> {
  const filter = ['--filter', `label=k3d.cluster=${CLUSTER}`];
  const listings = await Promise.all([
    execa('docker', ['ps', '-a', ...filter, '--format', 'container {{.Names}}']),
    execa('docker', ['volume', 'ls', ...filter, '--format', 'volume {{.Name}}']),
    execa('docker', ['network', 'ls', ...filter, '--format', 'network {{.Name}}']),
  ]);
  return listings.flatMap((r) => r.stdout.split('\n').filter(Boolean));
}

describe('interrupting a run', () => {
  test('SIGINT while the cluster boots: exit 130, cluster deleted', async () => {
    const child = execa(process.execPath, [join(packageRoot(), 'bin', 'kubelab.js'), 'run', 'lesson-1'], {
      reject: false,
      all: true,
      env: { CI: 'true' },
    });
    // The nodes exist once k3d starts the agents: interrupt then, mid-create.
    await new Promise<void>((resolve) => {
      child.all!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('Starting agents')) resolve();
      });
      child.on('exit', () => resolve()); // it ended on its own: the exit code below says how
    });
    child.kill('SIGINT');
    const result = await child;
    console.log(result.all);
    expect(result.exitCode).toBe(130);
    expect(result.stderr).toContain('interrupted; cleanup done');
    expect(await leftovers()).toEqual([]);
  }, 10 * 60_000);
});
