import { setTimeout as delay } from 'node:timers/promises';

/**
 * Calls `attempt` until `done` holds for its result, pausing `everyMs` between calls, and returns the
 * last result: once `done` holds, or when the next call would start after `deadline` (epoch ms). For
 * states that offer nothing to watch (a route an ingress controller picks up, a node's iptables).
 */
export async function repeatUntil<T>(
  attempt: () => Promise<T>,
  done: (result: T) => boolean,
  options: { deadline: number; everyMs: number; signal?: AbortSignal },
): Promise<T> {
  for (;;) {
    const result = await attempt();
    if (done(result) || Date.now() + options.everyMs > options.deadline) return result;
    await delay(options.everyMs, undefined, { signal: options.signal });
  }
}
