/**
 * A signal that aborts when `signal` does or `ms` after now, whichever comes first; `clear()` stops
 * the timer once the work is done. Not `AbortSignal.any([signal, AbortSignal.timeout(ms)])`: on
 * Node 20 the timeout signal inside it is held weakly and can be collected before it fires
 * (nodejs/node#57736), and the deadline is then lost without a trace.
 */
export function deadline(ms: number, signal?: AbortSignal): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  const timer = setTimeout(() => controller.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')), ms);
  const clear = () => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  };
  controller.signal.addEventListener('abort', clear, { once: true });
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, clear };
}
