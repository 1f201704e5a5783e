import { readFile, rm, writeFile } from 'node:fs/promises';
import { isSameProcess, processStart } from './process.js';

/** Writes `text` to `path` unless a file is there already (then false): the one writer wins. */
export function createExclusive(path: string, text: string): Promise<boolean> {
  return writeFile(path, text, { flag: 'wx', mode: 0o600 }).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
      return false;
    },
  );
}

/** The process recorded in an owner file (a lock, a claim, a guard): its pid and process start. */
export interface FileOwner {
  pid: number;
  start?: string;
}

export const thisProcess = (): FileOwner => ({ pid: process.pid, start: processStart(process.pid) });

/**
 * Removes `path` if its owner (read by `ownerOf`) is gone, one process at a time: two processes that
 * found the same dead owner could otherwise each remove the file the other had just created in its
 * place. The one deciding holds a guard file beside it (created exclusively; one left by a process
 * killed while deciding is removed once that process is gone). Returns whether it removed `path`;
 * false also while another process decides, which the caller waits out as it waits for a live owner.
 */
export async function removeIfOwnerGone(path: string, ownerOf: (text: string) => FileOwner | undefined): Promise<boolean> {
  const guard = `${path}.takeover`;
  if (!(await createExclusive(guard, JSON.stringify(thisProcess())))) {
    const decider = await readFile(guard, 'utf8').then((text) => JSON.parse(text) as FileOwner).catch(() => undefined);
    if (decider && !isSameProcess(decider.pid, decider.start)) await rm(guard, { force: true });
    return false;
  }
  try {
    // Unreadable or half-written (its writer is between create and write): not known to be gone.
    const owner = await readFile(path, 'utf8').then(ownerOf).catch(() => undefined);
    if (!owner || isSameProcess(owner.pid, owner.start)) return false;
    await rm(path, { force: true });
    return true;
  } finally {
    await rm(guard, { force: true });
  }
}
