import { InterruptedError } from '../errors.js';

export interface CleanupEntry {
  label: string;
  undo: () => Promise<void> | void;
}

/**
 * Everything kubelab creates is registered here the moment it exists, and undone in reverse order
 * on success, failure or a signal. `keep` entries survive (`--keep`, `kubelab up`).
 */
export class CleanupStack {
  private readonly entries: CleanupEntry[] = [];
  private running: Promise<string[]> | undefined;

  register(label: string, undo: () => Promise<void> | void): void {
    this.entries.push({ label, undo });
  }

  /** Forgets every entry: what was made is now the user's (`kubelab up` after success). */
  clear(): void {
    this.entries.length = 0;
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
        try {
          await entry.undo();
        } catch (error) {
          failures.push(`${entry.label}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      this.running = undefined;
      return failures;
    })();
    return this.running;
  }
}

/**
 * Turns SIGINT/SIGTERM into an abort of `controller`, so that the running step stops and the normal
 * finally-path cleans up. A second signal exits at once (the user insists).
 */
export function abortOnSignals(controller: AbortController): () => void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received += 1;
    if (received > 1) process.exit(130);
    process.stderr.write(`\n${signal} received: stopping and cleaning up (press Ctrl-C again to exit now)\n`);
    controller.abort(new InterruptedError(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
