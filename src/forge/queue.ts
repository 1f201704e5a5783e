import type { ForgeItem } from './types.js';

interface Deferred {
  promise: Promise<void>;
  settle(error?: Error): void;
}

function deferred(): Deferred {
  let settle!: (error?: Error) => void;
  const promise = new Promise<void>((resolve, reject) => (settle = (error) => (error ? reject(error) : resolve())));
  promise.catch(() => undefined); // a failure is reported by the item itself; dependents see it through `run`
  return { promise, settle };
}

/** Lanes when nobody says (`--jobs`): compiling is CPU-bound while debootstrap and module downloads wait on the network, so a few lanes overlap the two. */
export const DEFAULT_FORGE_JOBS = 3;

/**
 * Builds forge items side by side: each starts once the items that make what it needs (in this
 * queue) have finished, and at most `jobs` build at once.
 */
export class ForgeQueue {
  private readonly finished = new Map<string, Deferred>();
  private readonly waiting: Array<() => void> = [];
  private running = 0;

  constructor(
    private readonly items: readonly ForgeItem[],
    private readonly jobs: number,
  ) {
    for (const item of items) this.finished.set(item.name, deferred());
  }

  /** The queued items that make what `item` needs. */
  makersOf(item: ForgeItem): ForgeItem[] {
    return this.items.filter((maker) => maker !== item && (item.needs ?? []).includes(maker.location));
  }

  /**
   * Runs `build` for a queued item when its makers are done and a lane is free; fails without
   * building when a maker failed. `onWait` hears what it waits for.
   */
  async run<T>(item: ForgeItem, build: () => Promise<T>, onWait?: (line: string) => void): Promise<T> {
    const done = this.finished.get(item.name);
    if (!done) throw new Error(`forge queue: ${item.name} was not queued`);
    try {
      const makers = this.makersOf(item);
      if (makers.length > 0) onWait?.(`waiting for ${makers.map((m) => m.name).join(', ')}`);
      const outcomes = await Promise.allSettled(makers.map((maker) => this.finished.get(maker.name)!.promise));
      const failed = makers.filter((_, i) => outcomes[i]!.status === 'rejected');
      if (failed.length > 0) throw new Error(`not built: it is made from ${failed.map((m) => m.name).join(', ')}, which failed`);
      if (this.running >= this.jobs) onWait?.(`waiting for a free lane (${this.jobs} building)`);
      await this.lane();
      try {
        const result = await build();
        done.settle();
        return result;
      } finally {
        this.running -= 1;
        this.waiting.shift()?.();
      }
    } catch (error) {
      done.settle(error as Error);
      throw error;
    }
  }

  private lane(): Promise<void> {
    if (this.running < this.jobs) {
      this.running += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.running += 1;
        resolve();
      }),
    );
  }
}
