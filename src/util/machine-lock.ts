import { watch } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createExclusive, ownerGone, readOwner, removeIfOwnerGone, thisProcess } from './exclusive-file.js';
import { stateDir } from './paths.js';

/** How often a wait re-reads a lock whose holder may have died without removing it (no event tells). */
const HOLDER_RECHECK_MS = 1000;

/**
 * Runs `work` while this process alone, among kubelab processes on the machine, holds lock `name`
 * (a file created exclusively in the state dir). A lock left by a killed process is taken over;
 * one held by a live process is waited for until `timeoutMs`, then refused naming its pid.
 */
export async function withMachineLock<T>(name: string, work: () => Promise<T>, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<T> {
  const dir = locksDir();
  const path = join(dir, `${name}.lock`);
  await mkdir(dir, { recursive: true });
  const me = thisProcess();
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    options.signal?.throwIfAborted();
    if (await createExclusive(path, JSON.stringify(me))) break;
    // Unreadable (let go meanwhile): waited for below like a live holder, within the deadline.
    const holder = await readOwner(path);
    // Its process is gone: removed (unless another process is deciding the same), then created again.
    if (ownerGone(holder) && (await removeIfOwnerGone(path))) continue;
    if (Date.now() >= deadline) throw new Error(`lock ${path} is held by pid ${holder?.pid ?? '?'} for longer than ${options.timeoutMs ?? 60_000} ms`);
    await released(dir, `${name}.lock`, Math.min(HOLDER_RECHECK_MS, deadline - Date.now()), options.signal);
  }
  try {
    return await work();
  } finally {
    await rm(path, { force: true });
  }
}

/** Where lock files live: one per lock name. */
export const locksDir = () => join(stateDir(), 'locks');

/**
 * Locks whose holder was killed before it could remove the file (a live run would take them over):
 * what `kubelab gc` removes, by taking each over and letting go as its next user would.
 */
export async function abandonedLocks(): Promise<Array<{ path: string; pid: number; release(): Promise<void> }>> {
  const files = await readdir(locksDir()).catch(() => [] as string[]);
  const abandoned = [];
  for (const file of files.filter((f) => f.endsWith('.lock'))) {
    const path = join(locksDir(), file);
    const holder = await readOwner(path);
    if (!ownerGone(holder)) continue;
    const name = file.slice(0, -'.lock'.length);
    abandoned.push({ path, pid: holder.pid, release: () => withMachineLock(name, async () => {}, { timeoutMs: 5_000 }) });
  }
  return abandoned;
}

/** Resolves when `file` in `dir` changes, or after `ms` at the latest. */
function released(dir: string, file: string, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(dir, (_event, changed) => {
      if (changed === file || changed === `${file}.takeover`) done();
    });
    const timer = setTimeout(done, ms);
    const onAbort = () => done();
    signal?.addEventListener('abort', onAbort, { once: true });
    function done() {
      clearTimeout(timer);
      watcher.close();
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
  });
}
