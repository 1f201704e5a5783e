/**
 * A suite's plan: which lessons share which cluster, when each cluster is created and deleted, and
 * when a lesson's objects are deleted for the next one. The course's own lessons (1 and 2 declare the
 * same cluster, 3 its own two) and made-up orders around them.
 */
import { describe, expect, it } from '@jest/globals';
import type { ClusterSpec } from '../../src/cluster/spec.js';
import lesson1 from '../../labs/lesson-1.js';
import lesson3 from '../../labs/lesson-3.js';
import { clusterSpecFor, companionSpecsFor } from '../../src/lab/lesson-clusters.js';
import { loadLesson } from '../../src/lab/catalog.js';
import { planSuite, type SuiteMemberClusters } from '../../src/lab/suite-plan.js';

async function course(...ids: string[]): Promise<SuiteMemberClusters[]> {
  const lessons = await Promise.all(ids.map((id) => loadLesson(id)));
  return lessons.map((lesson) => {
    const spec = clusterSpecFor(lesson, {});
    return { lesson: lesson.id, clusters: [spec, ...companionSpecsFor(lesson, spec)] };
  });
}

const exposed = clusterSpecFor(lesson1, {});
const member = (lesson: string, ...clusters: ClusterSpec[]): SuiteMemberClusters => ({ lesson, clusters });

describe('planSuite', () => {
  it("shares lesson 1's cluster with lesson 2: created before lesson 1, deleted after lesson 2, lesson 1's objects deleted between", async () => {
    expect(planSuite(await course('lesson-1', 'lesson-2'), false)).toEqual([
      { lesson: 'lesson-1', creates: ['yadoc-exposed'], reuses: [], deletesAfter: [], keepsAfter: [], removesApplied: true },
      { lesson: 'lesson-2', creates: [], reuses: ['yadoc-exposed'], deletesAfter: ['yadoc-exposed'], keepsAfter: [], removesApplied: false },
    ]);
  });

  it("lesson 3's two clusters are created for it and deleted after it; lesson 2's before them", async () => {
    const plan = planSuite(await course('lesson-1', 'lesson-2', 'lesson-3'), false);
    expect(plan.map((s) => [s.lesson, s.creates, s.deletesAfter])).toEqual([
      ['lesson-1', ['yadoc-exposed'], []],
      ['lesson-2', [], ['yadoc-exposed']],
      ['lesson-3', [lesson3.cluster.name, ...lesson3.companions!.map((c) => c.name)], [lesson3.cluster.name, ...lesson3.companions!.map((c) => c.name)]],
    ]);
  });

  it('a cluster used again after another lesson is deleted and created anew (the lesson between may take its ports)', async () => {
    const plan = planSuite(await course('lesson-1', 'lesson-3', 'lesson-2'), false);
    expect(plan[0]).toMatchObject({ creates: ['yadoc-exposed'], deletesAfter: ['yadoc-exposed'], removesApplied: false });
    expect(plan[2]).toMatchObject({ creates: ['yadoc-exposed'], reuses: [], deletesAfter: ['yadoc-exposed'] });
  });

  it('the same name with another spec is not the same cluster: deleted, then created as the next lesson declares it', () => {
    const bigger = { ...exposed, agents: 5 };
    expect(planSuite([member('a', exposed), member('b', bigger)], false)).toEqual([
      { lesson: 'a', creates: ['yadoc-exposed'], reuses: [], deletesAfter: ['yadoc-exposed'], keepsAfter: [], removesApplied: false },
      { lesson: 'b', creates: ['yadoc-exposed'], reuses: [], deletesAfter: ['yadoc-exposed'], keepsAfter: [], removesApplied: false },
    ]);
  });

  it('a spec with the same fields in another key order is the same cluster', () => {
    const reordered = Object.fromEntries(Object.entries(exposed).reverse()) as unknown as ClusterSpec;
    expect(planSuite([member('a', exposed), member('b', reordered)], false)[1]!.reuses).toEqual(['yadoc-exposed']);
  });

  it('--keep leaves each cluster standing after its last stretch, and deletes a stretch that is followed by another lesson of the cluster', async () => {
    const plan = planSuite(await course('lesson-1', 'lesson-3', 'lesson-2'), true);
    expect(plan.map((s) => [s.lesson, s.deletesAfter, s.keepsAfter])).toEqual([
      ['lesson-1', ['yadoc-exposed'], []],
      ['lesson-3', [], [lesson3.cluster.name, ...lesson3.companions!.map((c) => c.name)]],
      ['lesson-2', [], ['yadoc-exposed']],
    ]);
  });

  it('--keep keeps the last lesson\'s objects on a shared cluster (as a single run does) and still deletes the earlier lesson\'s', async () => {
    const plan = planSuite(await course('lesson-1', 'lesson-2'), true);
    expect(plan.map((s) => [s.removesApplied, s.keepsAfter])).toEqual([
      [true, []],
      [false, ['yadoc-exposed']],
    ]);
  });

  it('the same lesson twice in a row runs twice on one cluster', async () => {
    const plan = planSuite(await course('lesson-1', 'lesson-1'), false);
    expect(plan.map((s) => [s.creates, s.reuses, s.deletesAfter, s.removesApplied])).toEqual([
      [['yadoc-exposed'], [], [], true],
      [[], ['yadoc-exposed'], ['yadoc-exposed'], false],
    ]);
  });
});
