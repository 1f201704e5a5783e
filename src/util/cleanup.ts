import { CleanupFailedError, InterruptedError } from '../errors.js';

export interface CleanupEntry {
  label: string;
  undo: () => Promise<void> | void;
  /** The command a user runs to remove it by hand, printed if kubelab is stopped before it could. */
  byHand?: string;
}

/** Stacks with entries not yet undone: what a second Ctrl-C reports as left behind. */
const liveStacks = new Set<CleanupStack>();

/**
 * Everything kubelab creates is registered here the moment it exists, and undone in reverse order
 * on success, failure or a signal. `keep` entries survive (`--keep`, `kubelab up`).
 */
export class CleanupStack {
  private readonly entries: CleanupEntry[] = [];
  private running: Promise<string[]> | undefined;
  /** The entry being undone right now: not finished, so still left if kubelab exits. */
  private current: CleanupEntry | undefined;

  register(label: string, undo: () => Promise<void> | void, byHand?: string): void {
    this.entries.push({ label, undo, ...(byHand ? { byHand } : {}) });
    liveStacks.add(this);
  }

  /** Forgets every entry: what was made is now the user's (`kubelab up` after success). */
  clear(): void {
    this.entries.length = 0;
    liveStacks.delete(this);
  }

  /** What is not undone yet, the entry in progress first. */
  leftovers(): CleanupEntry[] {
    return [...(this.current ? [this.current] : []), ...[...this.entries].reverse()];
  }

  get size(): number {
    return this.entries.length;
  }

  /** Undoes every entry, newest first; one failure does not stop the rest. Returns the failures. */
  runAll(): Promise<string[]> {
    this.running ??= (async () => {
      const failures: string[] = [];
      while (this.entries.length > 0) {
        const entry = this.entries.pop()!;
        this.current = entry;
        try {
          await entry.undo();
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          failures.push(`${entry.label}: ${reason}${entry.byHand ? ` (remove it with: ${entry.byHand})` : ''}`);
        }
      }
      this.current = undefined;
      liveStacks.delete(this);
      this.running = undefined;
      return failures;
    })();
    return this.running;
  }
}

/**
 * Runs `body`, then `after` (the cleanup, returning its failures) whatever happened. When both fail,
 * the error thrown carries both: a failed step never hides what its cleanup left behind.
 */
export async function cleaningUp<T>(body: () => Promise<T>, after: () => Promise<string[]>): Promise<{ value: T; cleanupFailures: string[] }> {
  let value: T;
  try {
    value = await body();
  } catch (error) {
    const failures = await after();
    throw failures.length > 0 ? new CleanupFailedError(failures, error) : error;
  }
  return { value, cleanupFailures: await after() };
}

/** What every live stack still holds, as lines for the terminal. */
export function describeLeftovers(): string[] {
  return [...liveStacks].flatMap((stack) => stack.leftovers()).map((entry) => `  ${entry.label}${entry.byHand ? `: ${entry.byHand}` : ''}`);
}

/**
 * Turns SIGINT/SIGTERM/SIGHUP into an abort of `controller`, so that the running step stops and the
 * normal finally-path cleans up (teardown processes run in their own process group, so the terminal's
 * Ctrl-C does not kill them half-way). A second signal exits at once (the user insists), saying
 * what is left and how to remove it. Output that can no longer be written (the terminal closed, the
 * reading process gone: EPIPE) stops the run the same way: unhandled, each failed write's report was
 * another failed write, and the cleanup never ran.
 */
export function abortOnInterruption(controller: AbortController): () => void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received += 1;
    if (received > 1) {
      const left = describeLeftovers();
      if (left.length > 0) process.stderr.write(`\n${signal} again: exiting now; left behind (and how to remove it):\n${left.join('\n')}\n`);
      process.exit(130);
    }
    process.stderr.write(`\n${signal} received: stopping and cleaning up (press Ctrl-C again to exit now)\n`);
    controller.abort(new InterruptedError(`interrupted by ${signal}`));
  };
  // A destroyed stream drops later writes without another 'error'. Left on after the run: the last
  // lines' write fails after it ended, and unhandled that 'error' would make the exit code 1.
  const onOutputError = (error: NodeJS.ErrnoException) => controller.abort(new InterruptedError(`output closed (${error.code ?? error.message})`));
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, onSignal);
  for (const stream of [process.stdout, process.stderr]) stream.on('error', onOutputError);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
