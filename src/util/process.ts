import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';

/** Whether a process with this pid exists (owned by anyone). A pid alone can be reused: see processStart. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Linux's USER_HZ: /proc/PID/stat counts start times in these ticks on every architecture Node runs on.
const TICKS_PER_SECOND = 100;

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Ticks since boot when `pid` started (field 22 of /proc/PID/stat), or undefined where there is no /proc. */
function startTicks(pid: number): number | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) is in parentheses and may hold spaces or ')': fields count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[19]);
  return Number.isFinite(ticks) ? ticks : undefined;
}

/**
 * Who `pid` is, beyond its number: this boot's id and the process's start tick. pids wrap (32768 on
 * many hosts, within minutes on a busy one), so a claim or temp dir that trusted the pid alone could
 * be held by any later process that drew the same number. Undefined where /proc cannot tell.
 */
export function processStart(pid: number): string | undefined {
  const boot = readProc('/proc/sys/kernel/random/boot_id')?.trim();
  const ticks = startTicks(pid);
  return boot === undefined || ticks === undefined ? undefined : `${boot}:${ticks}`;
}

/** Whether the process recorded as (`pid`, `start`) still runs; without a recorded start, whether the pid exists. */
export function isSameProcess(pid: number, start: string | undefined): boolean {
  if (!isAlive(pid)) return false;
  if (start === undefined) return true;
  const now = processStart(pid);
  return now === undefined || now === start;
}

/** Wall-clock milliseconds when `pid` started, where /proc tells (boot time plus its start tick). */
export function processStartedAt(pid: number): number | undefined {
  const bootSeconds = Number(/^btime (\d+)$/m.exec(readProc('/proc/stat') ?? '')?.[1]);
  const ticks = startTicks(pid);
  if (!Number.isFinite(bootSeconds) || ticks === undefined) return undefined;
  return (bootSeconds + ticks / TICKS_PER_SECOND) * 1000;
}

/**
 * Whether the process now holding `pid` started after `path` last changed: then it drew a reused pid
 * and cannot be the one that made (and would still be writing) the file or dir.
 */
export async function startedAfterChange(pid: number, path: string): Promise<boolean> {
  const started = processStartedAt(pid);
  const changed = await stat(path).then((s) => s.mtimeMs, () => undefined);
  // The start time is known to 10 ms (clock ticks): a second's margin keeps a live owner's file.
  return started !== undefined && changed !== undefined && started > changed + 1000;
}
