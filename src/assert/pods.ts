import type { V1Pod } from '@kubernetes/client-node';
import type { Assertion } from '../lab/types.js';
import { watched } from './eventually.js';

export function podRunning(name: string): Assertion {
  return watched<V1Pod>({
    name: `pod ${name} is Running and Ready`,
    expected: 'phase Running, condition Ready=True',
    target: (ctx) => ({ apiVersion: 'v1', kind: 'Pod', namespace: ctx.namespace, fieldSelector: `metadata.name=${name}` }),
    evaluate: ([pod]) => {
      if (!pod) return { pass: false, observed: `no pod ${name}` };
      const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      return { pass: pod.status?.phase === 'Running' && ready, observed: `${pod.status?.phase ?? 'Unknown'} on ${pod.spec?.nodeName ?? '(unscheduled)'}, Ready=${ready}` };
    },
  });
}
