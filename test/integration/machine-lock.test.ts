/**
 * The machine lock across real processes (what keeps one run from retiring the registry another has
 * just found): a second process waits for a live holder and runs only after it let go; a lock left
 * by a process that is gone is taken over at once, by one process alone when several find it at
 * once; a holder that outlasts the wait is named by pid.
 */
import { describe, expect, test } from '@jest/globals';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { withMachineLock } from '../../src/util/machine-lock.js';
import { packageRoot } from '../../src/util/paths.js';
import { isolatedStateDir } from '../support/state-dir.js';

const stateDir = isolatedStateDir('kubelab-lock-');
const lockModule = join(packageRoot(), 'dist', 'src', 'util', 'machine-lock.js');

/**
 * A node process that takes lock `name`, says "held", holds it until its stdin closes, and writes
 * "theirs" to `journal` as the last thing inside its hold (when given).
 */
function holder(name: string, journal?: string): { child: ResultPromise; held: Promise<void> } {
  const script = `
    const { appendFileSync } = await import('node:fs');
    const { withMachineLock } = await import(${JSON.stringify(lockModule)});
    await withMachineLock(${JSON.stringify(name)}, async () => {
      console.log('held');
      await new Promise((resolve) => process.stdin.on('end', resolve).resume());
      ${journal ? `appendFileSync(${JSON.stringify(journal)}, 'theirs\\n');` : ''}
    });`;
  const child = execa(process.execPath, ['--input-type=module', '-e', script], { env: { KUBELAB_HOME: stateDir() }, stdin: 'pipe', reject: false });
  const held = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('held') && resolve());
    void child.then((result) => reject(new Error(`holder exited before holding: ${result.stderr}`)));
  });
  return { child, held };
}

describe('withMachineLock between processes', () => {
  test('waits for a live holder and runs after it released', async () => {
    // Written inside each hold: the file's order is the order of the holds (stdout's would race).
    const journal = join(stateDir(), 'journal-a');
    await writeFile(journal, '');
    const { child, held } = holder('registry-a', journal);
    await held;
    const waiting = withMachineLock('registry-a', async () => writeFile(journal, 'ours\n', { flag: 'a' }));
    child.stdin!.end();
    await waiting;
    expect((await child).exitCode).toBe(0);
    expect(await readFile(journal, 'utf8')).toBe('theirs\nours\n');
    expect(await readdir(join(stateDir(), 'locks'))).toEqual([]);
  }, 30_000);

  test('takes over a lock whose process is gone', async () => {
    const { child, held } = holder('registry-b');
    await held;
    child.kill('SIGKILL');
    await child;
    expect(await readdir(join(stateDir(), 'locks'))).toContain('registry-b.lock');
    expect(await withMachineLock('registry-b', async () => 'ran', { timeoutMs: 5_000 })).toBe('ran');
  }, 30_000);

  test('a lock of a process that is gone, found by six processes at once, is held by one at a time', async () => {
    const dead = execa('true');
    await dead;
    await mkdir(join(stateDir(), 'locks'), { recursive: true });
    await writeFile(join(stateDir(), 'locks', 'registry-d.lock'), JSON.stringify({ pid: dead.pid }));
    const journal = join(stateDir(), 'journal');
    await writeFile(journal, '');
    // Each says "ready", waits for its stdin to close (all at once), then takes the lock and writes
    // "in" and "out" around a hold long enough for another holder to show between them.
    const script = `
      const { appendFileSync } = await import('node:fs');
      const { withMachineLock } = await import(${JSON.stringify(lockModule)});
      console.log('ready');
      await new Promise((resolve) => process.stdin.on('end', resolve).resume());
      await withMachineLock('registry-d', async () => {
        appendFileSync(${JSON.stringify(journal)}, 'in\\n');
        await new Promise((resolve) => setTimeout(resolve, 100));
        appendFileSync(${JSON.stringify(journal)}, 'out\\n');
      });`;
    const children = Array.from({ length: 6 }, () => execa(process.execPath, ['--input-type=module', '-e', script], { env: { KUBELAB_HOME: stateDir() }, stdin: 'pipe', reject: false }));
    await Promise.all(children.map((child) => new Promise<void>((resolve) => child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve()))));
    for (const child of children) child.stdin!.end();
    const results = await Promise.all(children);
    expect(results.map((result) => (result.exitCode === 0 ? 0 : result.stderr))).toEqual([0, 0, 0, 0, 0, 0]);
    expect((await readFile(journal, 'utf8')).trim().split('\n')).toEqual(Array.from({ length: 6 }, () => ['in', 'out']).flat());
    expect(await readdir(join(stateDir(), 'locks'))).toEqual([]);
  }, 60_000);

  test('refuses, naming the holder, when the wait runs out', async () => {
    const { child, held } = holder('registry-c');
    await held;
    await expect(withMachineLock('registry-c', async () => 'ran', { timeoutMs: 300 })).rejects.toThrow(new RegExp(`held by pid ${child.pid} `));
    child.stdin!.end();
    await child;
  }, 30_000);
});
