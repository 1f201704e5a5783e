import type { Readable } from 'node:stream';
import { execa, ExecaError, type Options } from 'execa';
import { EnvironmentError } from '../errors.js';
import { toolOutput } from './tool-log.js';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * The user's progress display. The child's combined output is the tool's own: it goes to the
   * command's tool log, and reaches `onLine` line by line on a terminal but only as a periodic
   * "still running" line in plain output (see tool-log.ts).
   */
  onLine?: (line: string) => void;
  /** Every line of combined output, unfiltered and not logged, for a caller that reads it (`docker events`). */
  readLine?: (line: string) => void;
  /**
   * Its own process group: the terminal's Ctrl-C (sent to kubelab's group) does not reach it. For
   * teardown, which must finish even when the user interrupts (kubelab still waits for it).
   */
  ownProcessGroup?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** The signal that ended it, if one did. */
  signal?: string;
}

/**
 * Runs a program with an argument array (never a shell string) and throws on a non-zero exit,
 * with the command's stderr tail in the message. A missing binary becomes an EnvironmentError.
 */
export async function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await runAllowingFailure(file, args, options);
  if (result.exitCode !== 0) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-8).join('\n');
    const ended = result.signal ? `was killed by ${result.signal}` : `exited with ${result.exitCode}`;
    throw new Error(`${file} ${args.join(' ')} ${ended}: ${tail || '(no output)'}`);
  }
  return result;
}

/** Like run(), but a non-zero exit is returned, not thrown. */
export async function runAllowingFailure(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const execaOptions: Options = {
    cwd: options.cwd,
    env: options.env,
    extendEnv: true,
    input: options.input,
    timeout: options.timeoutMs,
    cancelSignal: options.signal,
    forceKillAfterDelay: 5000,
    detached: options.ownProcessGroup ?? false,
    reject: false,
    stripFinalNewline: true,
    lines: false,
  };
  const child = execa(file, [...args], { ...execaOptions, all: options.onLine !== undefined || options.readLine !== undefined });
  const output = options.onLine ? toolOutput(file, args, child.pid, options.onLine) : undefined;
  if (child.all) {
    const { readLine } = options;
    eachLine(child.all, (line) => {
      output?.line(line);
      readLine?.(line);
    });
  }
  // With reject: false even a spawn failure resolves.
  const result = await child;
  output?.end(result);
  if (result instanceof ExecaError || result.failed) {
    const code = (result as { code?: string }).code;
    if (code === 'ENOENT') throw new EnvironmentError(`${file} is not installed (not found on PATH)`, 'run `kubelab doctor`');
    if (result.isCanceled) throw Object.assign(new Error(`${file} was cancelled`), { name: 'AbortError' });
  }
  // The terminal's Ctrl-C reaches the child too, which may die of it before kubelab's own handler
  // aborts: that is an interruption, not a failure with an empty reason.
  const interruptedBy = result.signal === 'SIGINT' || (result.signal === 'SIGTERM' && !result.timedOut) ? result.signal : undefined;
  if (options.signal?.aborted || interruptedBy) {
    throw Object.assign(new Error(`${file} was interrupted${interruptedBy ? ` (${interruptedBy})` : ''}`), { name: 'AbortError' });
  }
  return {
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    exitCode: result.exitCode ?? (result.isTerminated ? 128 : 1),
    ...(result.signal ? { signal: result.signal } : {}),
  };
}

/** Calls `onLine` with each non-blank line of a child's output stream, the last one even without a newline. */
export function eachLine(stream: Readable, onLine: (line: string) => void): void {
  stream.setEncoding('utf8');
  let partial = '';
  // CLIs such as k3d colour their logs even into a pipe; the log and the display want plain text.
  const emit = (line: string) => {
    if (line.trim()) onLine(line.replace(/\x1b\[[0-9;]*m/g, ''));
  };
  stream.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    lines.forEach(emit);
  });
  stream.on('end', () => emit(partial));
}
