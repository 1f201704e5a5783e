import { execa, ExecaError, type Options } from 'execa';
import { EnvironmentError } from '../errors.js';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called for each line of combined output, for live progress. */
  onLine?: (line: string) => void;
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
  const child = execa(file, [...args], { ...execaOptions, all: options.onLine !== undefined });
  if (options.onLine && child.all) {
    const onLine = options.onLine;
    child.all.setEncoding('utf8');
    let partial = '';
    child.all.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      // CLIs such as k3d colour their logs even into a pipe; the report wants plain text.
      for (const line of lines) if (line.trim()) onLine(line.replace(/\x1b\[[0-9;]*m/g, ''));
    });
  }
  const result = await child;
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
