import { Watch, type KubernetesObject } from '@kubernetes/client-node';
import { TimeoutError } from '../errors.js';
import { isApiUnreachable } from './api-get.js';
import { getRaw } from './client.js';
import type { Kube } from './client.js';
import { Discovery } from './discovery.js';

export interface WatchTarget {
  apiVersion: string;
  kind: string;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WaitOptions<T extends KubernetesObject, R> {
  /** What is awaited, in words: it heads the timeout message. */
  description: string;
  target: WatchTarget;
  /** Sees every object of the target after each change; a non-undefined result ends the wait. */
  until: (objects: T[]) => R | undefined;
  timeoutMs: number;
  signal?: AbortSignal;
  /** What to show when time runs out (events, pod states, logs). */
  diagnose?: () => Promise<string>;
  /**
   * Called each time a watch is established (after the list it resumes from): from then on a change
   * reaches `until` through the watch. Lets a caller make a change that only the watch can report.
   */
  onWatching?: () => void;
  /**
   * The API server stopped answering (refused, reset, 503): the wait goes on, trying again each
   * second until it answers or time runs out. Called once per outage, with the first error.
   */
  onUnreachable?: (error: Error) => void;
  /** The API server answers again after an outage (a fresh list has been read). */
  onReachable?: () => void;
}

/** How long a wait leaves an unreachable API server before it asks again. */
const RETRY_UNREACHABLE_MS = 1000;

interface ListResponse<T> {
  metadata: { resourceVersion: string };
  items: T[];
}

const keyOf = (o: KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/**
 * Waits for a condition over a set of objects: one LIST for the current state, then a WATCH from its
 * resourceVersion. A server-side close re-watches from the last version seen; 410 Gone re-lists.
 * No polling: the predicate runs only when the API server reports a change. An API server that stops
 * answering (a node restarting, the Docker daemon restarting) is waited out within the same deadline.
 */
export async function waitFor<T extends KubernetesObject, R>(kube: Kube, options: WaitOptions<T, R>): Promise<R> {
  const discovery = new Discovery(kube.config);
  const { target } = options;
  let path: string | undefined;
  const query: Record<string, string> = {};
  if (target.labelSelector) query.labelSelector = target.labelSelector;
  if (target.fieldSelector) query.fieldSelector = target.fieldSelector;
  const store = new Map<string, T>();
  const watch = new Watch(kube.config);

  return new Promise<R>((resolve, reject) => {
    let settled = false;
    let current: AbortController | undefined;
    let resourceVersion = '';
    /** The first error of the outage in progress, and when it began. */
    let outage: { error: Error; since: number } | undefined;
    let retry: NodeJS.Timeout | undefined;
    // Bumped whenever a watch is abandoned: events and the close of an abandoned watch are ignored,
    // else aborting it would start a second restart beside the one that aborted it.
    let generation = 0;
    const abandonWatch = () => {
      generation += 1;
      current?.abort();
    };

    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(retry);
      options.signal?.removeEventListener('abort', onAbort);
      abandonWatch();
      outcome();
    };
    const check = () => {
      try {
        const result = options.until([...store.values()]);
        if (result !== undefined) finish(() => resolve(result));
      } catch (error) {
        finish(() => reject(error));
      }
    };
    const list = async () => {
      path ??= await discovery.collectionPath(target.apiVersion, target.kind, target.namespace);
      const qs = new URLSearchParams(query).toString();
      const body = JSON.parse(await getRaw(kube.config, qs ? `${path}?${qs}` : path)) as ListResponse<T>;
      store.clear();
      for (const item of body.items) store.set(keyOf(item), item);
      resourceVersion = body.metadata.resourceVersion;
      if (outage) {
        outage = undefined;
        options.onReachable?.();
      }
      check();
    };
    const startWatch = async (): Promise<void> => {
      if (settled) return;
      const mine = generation;
      const isCurrent = () => !settled && mine === generation;
      const controller = await watch.watch(
        path!,
        { ...query, resourceVersion, allowWatchBookmarks: true },
        (phase, object: T) => {
          if (!isCurrent()) return;
          if (object.metadata?.resourceVersion) resourceVersion = object.metadata.resourceVersion;
          if (phase === 'BOOKMARK') return;
          if (phase === 'DELETED') store.delete(keyOf(object));
          else if (phase === 'ADDED' || phase === 'MODIFIED') store.set(keyOf(object), object);
          else if (phase === 'ERROR') {
            // 410 Gone: our version is too old; list again and resume.
            resourceVersion = '';
            void restart();
            return;
          }
          check();
        },
        (error: unknown) => {
          if (!isCurrent()) return;
          if (error && (error as Error).name !== 'AbortError') {
            // A broken connection: the store may have missed changes, so list again.
            resourceVersion = '';
            if (isApiUnreachable(error)) return unreachable(error as Error);
          }
          void restart();
        },
      );
      // Settled or abandoned while the request was on its way: nothing else will close this watch.
      if (!isCurrent()) return void controller.abort();
      current = controller;
      // watch() returns once the server answered the request: the watch is established.
      options.onWatching?.();
    };
    const restart = async () => {
      if (settled) return;
      try {
        abandonWatch();
        if (!resourceVersion) await list();
        await startWatch();
      } catch (error) {
        if (isApiUnreachable(error)) unreachable(error as Error);
        else finish(() => reject(error));
      }
    };
    /** Notes the outage (once) and lists again a second later. */
    const unreachable = (error: Error) => {
      if (settled) return;
      abandonWatch();
      resourceVersion = '';
      if (!outage) {
        outage = { error, since: Date.now() };
        options.onUnreachable?.(error);
      }
      retry = setTimeout(() => void restart(), RETRY_UNREACHABLE_MS);
    };
    const onAbort = () => finish(() => reject(options.signal!.reason));
    const timer = setTimeout(async () => {
      const down = outage && `the API server has not answered for ${Math.round((Date.now() - outage.since) / 1000)} s: ${outage.error.message}`;
      const diagnostic = down ?? (options.diagnose ? await options.diagnose().catch((e: Error) => `(diagnosis failed: ${e.message})`) : '');
      finish(() =>
        reject(new TimeoutError(`timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for ${options.description}`, diagnostic)),
      );
    }, options.timeoutMs);
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    void restart();
  });
}

/**
 * Follows a set of objects until `signal` aborts, calling `onChange` with all of them after each
 * change (the initial list included). For recorders that keep a timeline rather than wait for a state;
 * outages of the API server are followed through, and reported to `outages` when given.
 */
export async function observe<T extends KubernetesObject>(
  kube: Kube,
  target: WatchTarget,
  onChange: (objects: T[]) => void,
  signal: AbortSignal,
  outages: Pick<WaitOptions<T, never>, 'onUnreachable' | 'onReachable'> = {},
): Promise<void> {
  try {
    await waitFor<T, never>(kube, {
      description: `changes of ${target.kind} in ${target.namespace ?? 'all namespaces'}`,
      target,
      until: (objects) => void onChange(objects),
      timeoutMs: MAX_TIMER_MS,
      signal,
      ...outages,
    });
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}

/** The longest delay setTimeout accepts (about 24.8 days): "until aborted". */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The objects of a target as they are now (one LIST, through the same path as the watches). */
export function listObjects<T extends KubernetesObject>(kube: Kube, target: WatchTarget, signal?: AbortSignal): Promise<T[]> {
  return waitFor<T, T[]>(kube, { description: `list ${target.kind}`, target, until: (items) => items, timeoutMs: 60_000, signal });
}
