import type { KubernetesObject } from '@kubernetes/client-node';
import { TimeoutError } from '../errors.js';
import { diagnose } from '../kube/diagnose.js';
import { waitFor, type WatchTarget } from '../kube/wait.js';
import type { Assertion, LessonContext, Observation } from '../lab/types.js';

export interface WatchedAssertion<T extends KubernetesObject> {
  name: string;
  expected: string;
  target: (context: LessonContext) => WatchTarget;
  /** Judges the watched objects; runs on every change until it passes or time runs out. */
  evaluate: (objects: T[], context: LessonContext) => Observation;
  /** Pods whose state explains a failure (label selector in the lesson's namespace). */
  diagnosePods?: string;
}

/**
 * An assertion that holds once the cluster reaches a state: it watches the target objects and passes
 * at the first change that satisfies it; on timeout it fails with the last observation and a diagnostic.
 */
export function watched<T extends KubernetesObject>(spec: WatchedAssertion<T>): Assertion {
  return {
    name: spec.name,
    expected: spec.expected,
    async check(context) {
      let last: Observation = { pass: false, observed: 'nothing observed yet' };
      const target = spec.target(context);
      try {
        return await waitFor<T, Observation>(context.kube, {
          description: spec.name,
          target,
          until: (objects) => {
            last = spec.evaluate(objects, context);
            return last.pass ? last : undefined;
          },
          timeoutMs: context.assertionTimeoutMs,
          signal: context.signal,
          diagnose: () =>
            diagnose(context.kube, { namespace: target.namespace ?? context.namespace, labelSelector: spec.diagnosePods }),
        });
      } catch (error) {
        if (error instanceof TimeoutError) return { ...last, pass: false, diagnostic: error.diagnostic };
        throw error;
      }
    },
  };
}
