import { link, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive, isSameProcess, processStart, startedAfterChange } from './process.js';

let partialWrites = 0;
const PARTIAL = /\.(\d+)-\d+\.partial$/;

/**
 * Writes `text` to `path` unless a file is there already (then false): the one writer wins. The text
 * is written beside it first and linked into place, so that `path` exists whole or not at all: a
 * process killed mid-write leaves a `.partial` file (`kubelab gc` removes it), never an empty lock
 * or claim that every later run would stumble on.
 */
export async function createExclusive(path: string, text: string): Promise<boolean> {
  const partial = `${path}.${process.pid}-${++partialWrites}.partial`;
  await writeFile(partial, text, { mode: 0o600 });
  try {
    await link(partial, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  } finally {
    await rm(partial, { force: true });
  }
}

/** The process recorded in an owner file (a lock, a claim, a guard): its pid and process start. */
export interface FileOwner {
  pid: number;
  start?: string;
}

export const thisProcess = (): FileOwner => ({ pid: process.pid, start: processStart(process.pid) });

/** The owner recorded in `path`; undefined when the file is gone or unreadable. */
export const readOwner = (path: string): Promise<FileOwner | undefined> =>
  readFile(path, 'utf8').then((text) => JSON.parse(text) as FileOwner).catch(() => undefined);

/** Whether an owner was recorded and its process is gone (its pid ended, or now names a later process). */
export const ownerGone = (owner: FileOwner | undefined): owner is FileOwner => owner !== undefined && !isSameProcess(owner.pid, owner.start);

/**
 * Removes `path` if the process it records as owner is gone, one process at a time: two processes
 * that found the same dead owner could otherwise each remove the file the other had just created in
 * its place. The one deciding holds a guard file beside it (created exclusively; one left by a
 * process killed while deciding is removed once that process is gone). Returns whether it removed
 * `path`; false also while another process decides, which the caller waits out as it waits for a
 * live owner.
 */
export async function removeIfOwnerGone(path: string): Promise<boolean> {
  const guard = `${path}.takeover`;
  if (!(await createExclusive(guard, JSON.stringify(thisProcess())))) {
    const decider = await readOwner(guard);
    if (ownerGone(decider)) await rm(guard, { force: true });
    return false;
  }
  try {
    // Unreadable (removed meanwhile): not known to be gone.
    if (!ownerGone(await readOwner(path))) return false;
    await rm(path, { force: true });
    return true;
  } finally {
    await rm(guard, { force: true });
  }
}

/** Partial writes and takeover guards in `dir` whose process is gone: what a process killed mid-way left. */
export async function abandonedFiles(dir: string): Promise<Array<{ path: string; pid: number }>> {
  const abandoned = [];
  for (const file of await readdir(dir).catch(() => [] as string[])) {
    const path = join(dir, file);
    const writer = PARTIAL.exec(file);
    if (writer) {
      const pid = Number(writer[1]);
      if (!isAlive(pid) || (await startedAfterChange(pid, path))) abandoned.push({ path, pid });
    } else if (file.endsWith('.takeover')) {
      const decider = await readOwner(path);
      if (ownerGone(decider)) abandoned.push({ path, pid: decider.pid });
    }
  }
  return abandoned;
}
