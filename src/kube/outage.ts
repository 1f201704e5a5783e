import { setTimeout as delay } from 'node:timers/promises';
import { isApiUnreachable } from './api-get.js';

/** How long a call that is safe to repeat waits for an API server that went away (a node or daemon restarting). */
export const API_OUTAGE_MS = 120_000;

/**
 * Calls `call` until the API server answers it: while it is unreachable (refused, reset, 503) the
 * call is made again each second, for up to `withinMs`; then the last error is thrown. Only for
 * calls that are safe to repeat: reads and server-side apply.
 */
export async function outlastingOutages<T>(call: () => Promise<T>, withinMs = API_OUTAGE_MS, signal?: AbortSignal): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!isApiUnreachable(error) || Date.now() >= deadline) throw error;
      await delay(1000, undefined, { signal });
    }
  }
}
