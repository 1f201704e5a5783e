import { describe, expect, test } from '@jest/globals';
import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { expectedReplicas, proposals } from '../../src/assert/autoscaling.js';

const hpa = (replicas: number, cpu: number, memory: number, min = 1, max = 10): V2HorizontalPodAutoscaler => ({
  spec: {
    scaleTargetRef: { kind: 'Deployment', name: 'myapp' },
    minReplicas: min,
    maxReplicas: max,
    metrics: ['cpu', 'memory'].map((name) => ({ type: 'Resource', resource: { name, target: { type: 'Utilization', averageUtilization: 60 } } })),
  },
  status: {
    currentReplicas: replicas,
    desiredReplicas: replicas,
    currentMetrics: [
      { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: cpu } } },
      { type: 'Resource', resource: { name: 'memory', current: { averageUtilization: memory } } },
    ],
  },
});

describe('HPA proposals, as the controller computes them', () => {
  test('idle cpu proposes 1, idle memory above 45% holds 4 replicas at 4', () => {
    expect(proposals(hpa(4, 2, 53)).map((p) => [p.resource, p.replicas])).toEqual([['cpu', 1], ['memory', 4]]);
    expect(expectedReplicas(hpa(4, 2, 53))).toEqual([4, 4]);
  });
  test('from a higher peak, memory lets it come down part of the way', () => {
    expect(expectedReplicas(hpa(8, 2, 46))).toEqual([7, 7]); // ceil(8 x 46/60) = ceil(6.13)
  });
  test('within 10% of the target a metric proposes no change', () => {
    expect(proposals(hpa(3, 2, 64)).find((p) => p.resource === 'memory')?.replicas).toBe(3);
  });
  test('low usage on every metric: minReplicas; high: capped at maxReplicas', () => {
    expect(expectedReplicas(hpa(5, 2, 20))).toEqual([2, 2]); // ceil(5 x 20/60) = 2
    expect(expectedReplicas(hpa(2, 3, 10))).toEqual([1, 1]);
    expect(expectedReplicas(hpa(8, 300, 50))).toEqual([10, 10]);
  });
  test('a whole-percent reading next to a boundary allows either count', () => {
    expect(expectedReplicas(hpa(4, 2, 45))).toEqual([3, 4]); // 4 x 45/60 = 3 exactly; 45.x% gives 4
  });
});
