/**
 * `kubelab gc` sweeps what killed runs left and nothing else, as the built CLI: a stale claim, a
 * kubeconfig of a cluster that no longer exists, and a lock file, a partial write, a takeover guard
 * and a temp dir of a dead process go, as do a claim and a temp dir whose pid a later process drew;
 * a live run's claim, lock, partial write, guard and temp dir and a kept cluster's claim stay
 * untouched by --dry-run and by the sweep alike.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { packageRoot } from '../../src/util/paths.js';
import { processStart } from '../../src/util/process.js';

const cli = join(packageRoot(), 'bin', 'kubelab.js');
let home: string;
let tmp: string;
let live: ResultPromise;
let deadPid: number;

function kubelab(args: string[]) {
  return execa(process.execPath, [cli, ...args], { reject: false, env: { CI: 'true', KUBELAB_HOME: home, TMPDIR: tmp } });
}

async function claim(cluster: string, pid: number, keep: boolean, start?: string): Promise<void> {
  const body = { cluster, provider: 'k3d', pid, start, command: 'run lesson-1', keep, since: '2026-12-02T00:00:00.000Z' };
  await writeFile(join(home, 'runs', `${cluster}.json`), JSON.stringify(body));
}

const state = async () => ({
  runs: (await readdir(join(home, 'runs'))).sort(),
  kubeconfigs: (await readdir(join(home, 'kubeconfigs'))).sort(),
  locks: (await readdir(join(home, 'locks'))).sort(),
  tmp: (await readdir(tmp)).sort(),
});

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'kubelab-gc-home-'));
  tmp = await mkdtemp(join(tmpdir(), 'kubelab-gc-tmp-'));
  await mkdir(join(home, 'runs'));
  await mkdir(join(home, 'kubeconfigs'));
  await mkdir(join(home, 'locks'));
  // A process that ran and is gone: its pid names what a killed run left.
  const dead = execa('true');
  deadPid = dead.pid!;
  await dead;
  live = execa('sleep', ['120'], { reject: false });
  await claim('kubelab-gc-gone', deadPid, false);
  await claim('kubelab-gc-kept', deadPid, true);
  await claim('kubelab-gc-live', live.pid!, false);
  // Written by a process that had the live one's pid before it: another start tick of this boot.
  await claim('kubelab-gc-reused', live.pid!, false, `${processStart(live.pid!)!.split(':')[0]}:1`);
  await writeFile(join(home, 'kubeconfigs', 'kubelab-gc-gone.yaml'), 'apiVersion: v1\nkind: Config\n');
  await writeFile(join(home, 'kubeconfigs', 'kubelab-gc-live.yaml'), 'apiVersion: v1\nkind: Config\n');
  await writeFile(join(home, 'locks', 'machine-registry.lock'), JSON.stringify({ pid: deadPid }));
  await writeFile(join(home, 'locks', 'held.lock'), JSON.stringify({ pid: live.pid, start: processStart(live.pid!) }));
  // Killed between writing beside a file and linking it into place, or while deciding a takeover.
  await writeFile(join(home, 'runs', `kubelab-gc-x.json.${deadPid}-1.partial`), '{"clus');
  await writeFile(join(home, 'locks', `machine-registry.lock.takeover`), JSON.stringify({ pid: deadPid }));
  // A live process's, mid-way: kept.
  await writeFile(join(home, 'locks', `held.lock.${live.pid}-3.partial`), '{');
  await writeFile(join(home, 'runs', 'kubelab-gc-live.json.takeover'), JSON.stringify({ pid: live.pid, start: processStart(live.pid!) }));
  await mkdir(join(tmp, `kubelab-${deadPid}-run-abc123`));
  await mkdir(join(tmp, `kubelab-${live.pid}-run-def456`));
  // Made an hour before the live process started: a killed run's dir whose pid was drawn again.
  await mkdir(join(tmp, `kubelab-${live.pid}-run-old789`));
  const anHourAgo = new Date(Date.now() - 3_600_000);
  await utimes(join(tmp, `kubelab-${live.pid}-run-old789`), anHourAgo, anHourAgo);
  await mkdir(join(tmp, 'kubelab-unrelated'));
});

afterAll(async () => {
  live.kill('SIGKILL');
  await live;
  await rm(home, { recursive: true, force: true });
  await rm(tmp, { recursive: true, force: true });
});

describe('kubelab gc', () => {
  test('--dry-run lists what killed runs left and removes nothing', async () => {
    const before = await state();
    const result = await kubelab(['gc', '--dry-run']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n').sort()).toEqual(
      [
        `would remove claim on kubelab-gc-gone (by \`run lesson-1\`, pid ${deadPid}, since 2026-12-02T00:00:00.000Z)`,
        `would remove claim on kubelab-gc-kept (by \`run lesson-1\`, pid ${deadPid}, since 2026-12-02T00:00:00.000Z)`,
        `would remove claim on kubelab-gc-reused (by \`run lesson-1\`, pid ${live.pid}, since 2026-12-02T00:00:00.000Z)`,
        `would remove kubeconfig ${join(home, 'kubeconfigs', 'kubelab-gc-gone.yaml')} (cluster kubelab-gc-gone no longer exists)`,
        `would remove lock file ${join(home, 'locks', 'machine-registry.lock')} (pid ${deadPid} is gone)`,
        `would remove partial write ${join(home, 'runs', `kubelab-gc-x.json.${deadPid}-1.partial`)} (pid ${deadPid} is gone)`,
        `would remove takeover guard ${join(home, 'locks', 'machine-registry.lock.takeover')} (pid ${deadPid} is gone)`,
        `would remove temp dir ${join(tmp, `kubelab-${deadPid}-run-abc123`)} (pid ${deadPid} is gone)`,
        `would remove temp dir ${join(tmp, `kubelab-${live.pid}-run-old789`)} (pid ${live.pid} now belongs to a later process)`,
      ].sort(),
    );
    expect(await state()).toEqual(before);
  }, 60_000);

  test('removes exactly those, and a second sweep finds nothing', async () => {
    const result = await kubelab(['gc']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^removed claim on kubelab-gc-gone/m);
    expect(await state()).toEqual({
      runs: ['kubelab-gc-live.json', 'kubelab-gc-live.json.takeover'],
      kubeconfigs: ['kubelab-gc-live.yaml'],
      locks: ['held.lock', `held.lock.${live.pid}-3.partial`],
      tmp: [`kubelab-${live.pid}-run-def456`, 'kubelab-unrelated'].sort(),
    });
    expect((await kubelab(['gc'])).stdout).toBe('nothing left behind');
  }, 60_000);
});
