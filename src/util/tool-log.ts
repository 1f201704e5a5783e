import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { stateDir } from './paths.js';

/**
 * Where the output of the tools kubelab runs for the user's progress display goes (debootstrap,
 * go, docker build, k3d, kind): every line into one log file per command, and to the display
 * line by line on a terminal (listr2's live line) but in plain output (CI, pipes), where every
 * line stays on the screen, only as one "still running" line now and then. kubelab's own progress
 * lines never pass through here, so the display tells the two apart at their source.
 */

/** How often a running tool says it is alive in plain output. */
export const HEARTBEAT_MS = 20_000;

interface ToolLog {
  path: string;
  live: boolean;
  /** Opened when the first tool starts: a command that runs none leaves no empty file. */
  stream?: WriteStream;
  /** Why the log could not be written; the run goes on without it. */
  failure?: string;
}

let current: ToolLog | undefined;

/**
 * Sends the tools' output of this command to `logs/<command>-<time>.log` under the state dir.
 * `live`: the display shows every line (a terminal). Without a call (library use, tests), every
 * line reaches the display and none is logged, as before there was a log.
 */
export function startToolLog(command: string, live: boolean): void {
  const time = new Date().toISOString().replace(/:/g, '-');
  current = { path: join(stateDir(), 'logs', `${command}-${time}.log`), live };
}

/** Flushes and closes the log: its path if a tool wrote to it, or why it could not be written. */
export async function endToolLog(): Promise<{ path: string; failure?: string } | undefined> {
  const log = current;
  current = undefined;
  if (!log?.stream && !log?.failure) return undefined;
  if (log.stream) {
    log.stream.end();
    await finished(log.stream).catch(() => undefined);
  }
  return { path: log.path, ...(log.failure ? { failure: log.failure } : {}) };
}

function write(log: ToolLog, text: string): void {
  if (log.failure) return;
  try {
    if (!log.stream) {
      mkdirSync(dirname(log.path), { recursive: true });
      log.stream = createWriteStream(log.path, { flags: 'a' }).on('error', (error) => (log.failure ??= error.message));
    }
    log.stream.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
  } catch (error) {
    log.failure = (error as Error).message;
  }
}

export interface ToolOutput {
  line(text: string): void;
  /** The child has ended (execa's result). */
  end(ended: { exitCode?: number; signal?: string }): void;
}

/**
 * The output of one child process (`file args`, process `pid`) on its way to the log and to
 * `progress`, the display's line.
 */
export function toolOutput(file: string, args: readonly string[], pid: number | undefined, progress: (line: string) => void): ToolOutput {
  const log = current;
  // "go build", "debootstrap bookworm", "k3d cluster": enough to tell side-by-side tools apart.
  const label = [basename(file), args.find((arg) => !arg.startsWith('-'))].filter(Boolean).join(' ');
  const tag = `${basename(file)}[${pid ?? '?'}]`;
  const started = Date.now();
  let lines = 0;
  let last = '';
  if (log) write(log, `${tag} $ ${basename(file)} ${args.join(' ')}`);
  const heartbeat = log && !log.live
    ? setInterval(() => progress(`${label}: running ${elapsed(Date.now() - started)}, ${lines.toLocaleString('en-US')} lines of output so far${last ? `, last: ${last}` : ''}`), HEARTBEAT_MS)
    : undefined;
  heartbeat?.unref();
  return {
    line(text) {
      lines += 1;
      // k3d pads its INFO lines with spaces.
      last = text.trimEnd();
      if (log) write(log, `${tag} ${text}`);
      if (!log || log.live) progress(text);
    },
    end({ exitCode, signal }) {
      clearInterval(heartbeat);
      const how = signal ? `killed by ${signal}` : exitCode === undefined ? 'did not start' : `exited with ${exitCode}`;
      if (log) write(log, `${tag} ${how} after ${elapsed(Date.now() - started)}`);
    },
  };
}

function elapsed(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}
