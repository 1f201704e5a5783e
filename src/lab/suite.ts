import type { ClusterAccess } from '../kube/client.js';
import { cleaningUp, CleanupStack } from '../util/cleanup.js';
import { claimClusters } from './cluster-claim.js';
import { lessonClustersFor, type ClusterChoice, type ImageChoice } from './lesson-clusters.js';
import type { LessonOutcome } from './outcome.js';
import { provisionCluster } from './provision.js';
import { runLesson, type RunOptions, type SuiteMembership } from './runner.js';
import { planSuite } from './suite-plan.js';
import type { AssertionResult, Lesson } from './types.js';
import { describeError } from '../errors.js';

export interface SuiteOptions extends Omit<RunOptions, 'provider' | 'spec' | 'companions' | 'images' | 'manifests' | 'suite'> {
  /** The cluster and image flags, applied to every lesson. */
  choices: ClusterChoice & ImageChoice;
  /** A line about the suite's own work between lessons (a cluster kept up, deleted). */
  onLine: (line: string) => void;
  /** Each lesson's outcome as it finishes: what is known if a later lesson stops the suite. */
  onLessonDone?: (outcome: LessonOutcome) => void;
}

/**
 * `kubelab run lesson-1 lesson-2 ...`: the lessons in order, each with runLesson, sharing a cluster
 * between consecutive lessons that declare the same one (lab/suite-plan.ts). The suite claims every
 * cluster up front and owns their deletion, one cleanup stack per cluster: deleted after its last
 * lesson, and all of them when a lesson throws or the run is interrupted. A lesson whose assertions
 * fail does not stop the suite; an error (bad input, environment, interruption) does.
 */
export async function runSuite(lessons: Lesson[], options: SuiteOptions): Promise<LessonOutcome[]> {
  // Every lesson's flags are checked before anything is created.
  const members = lessons.map((lesson) => ({ lesson, clusters: lessonClustersFor(lesson, options.choices) }));
  // In a cluster kubelab did not make there is no cluster to share or delete: each lesson removes what it created.
  if (options.existing) {
    const outcomes: LessonOutcome[] = [];
    for (const { lesson, clusters } of members) {
      options.signal.throwIfAborted();
      outcomes.push(await runLesson(lesson, { ...options, ...clusters }));
      options.onLessonDone?.(outcomes.at(-1)!);
    }
    return outcomes;
  }
  const plan = planSuite(
    members.map(({ lesson, clusters }) => ({ lesson: lesson.id, clusters: [clusters.spec, ...clusters.companions] })),
    options.keep,
  );
  const distinct = [...new Map(members.flatMap(({ clusters }) => [clusters.spec, ...clusters.companions]).map((spec) => [spec.name, spec])).values()];
  const release = await claimClusters(distinct, { command: `run ${lessons.map((l) => l.id).join(' ')}`, keep: options.keep });
  /** The clusters made so far and not yet deleted, each with the stack that deletes it (access once it is up). */
  const made = new Map<string, { cleanup: CleanupStack; access?: ClusterAccess }>();
  const deleteClusters = async (names: string[]) => {
    const failures: string[] = [];
    for (const name of names) {
      const cluster = made.get(name);
      made.delete(name);
      // Empty for a cluster kept (--keep) or found matching and reused: not the suite's to delete.
      const owned = (cluster?.cleanup.size ?? 0) > 0;
      const failed = (await cluster?.cleanup.runAll()) ?? [];
      if (owned && failed.length === 0) options.onLine(`deleted cluster ${name}`);
      failures.push(...failed);
    }
    return failures;
  };

  const body = async () => {
    const outcomes: LessonOutcome[] = [];
    for (const [index, { lesson, clusters }] of members.entries()) {
      options.signal.throwIfAborted();
      const step = plan[index]!;
      const next = plan[index + 1];
      const provision: SuiteMembership['provision'] = async (spec, call) => {
        const existing = made.get(spec.name)?.access;
        if (existing) return existing;
        // Known before create starts: a failure or Ctrl-C mid-create deletes it too.
        const cluster: { cleanup: CleanupStack; access?: ClusterAccess } = { cleanup: new CleanupStack() };
        made.set(spec.name, cluster);
        cluster.access = (await provisionCluster(clusters.provider, spec, cluster.cleanup, { ...call, keep: step.keepsAfter.includes(spec.name) })).access;
        return cluster.access;
      };
      const outcome = await runLesson(lesson, { ...options, ...clusters, suite: { provision, reuses: step.reuses, removeApplied: step.removesApplied } });
      const failures = await deleteClusters(step.deletesAfter);
      for (const name of step.keepsAfter) options.onLine(`cluster ${name} kept: export KUBECONFIG=${made.get(name)?.access?.kubeconfig}`);
      if (next && next.reuses.length > 0) {
        const without = step.removesApplied && outcome.cleanupFailures.length === 0 ? `, without ${lesson.id}'s objects` : '';
        options.onLine(`cluster ${next.reuses.join(' and ')} stays up for ${next.lesson}${without}`);
      }
      outcomes.push({ ...outcome, cleanupFailures: [...outcome.cleanupFailures, ...failures] });
      options.onLessonDone?.(outcomes.at(-1)!);
    }
    return outcomes;
  };
  const { value } = await cleaningUp(body, async () => {
    const failures = await deleteClusters([...made.keys()].reverse());
    await release();
    return failures;
  });
  return value;
}

/**
 * The outcomes of a suite that an error (bad input, the machine, Ctrl-C) stopped, for its reports:
 * the lessons that finished as they did, the one it stopped as one failed check naming the error,
 * and the ones it never started as skipped.
 */
export function stoppedSuiteOutcomes(lessons: Lesson[], finished: LessonOutcome[], error: unknown): LessonOutcome[] {
  const stopped = lessons[finished.length];
  const outcome = (lesson: Lesson, result: AssertionResult): LessonOutcome => ({ lesson: lesson.id, cluster: lesson.cluster.name, results: [result], cleanupFailures: [], durationMs: 0 });
  return [
    ...finished,
    ...(stopped ? [outcome(stopped, { name: `${stopped.id} runs to its end`, pass: false, expected: 'the lesson runs to its end', observed: `stopped: ${describeError(error)}`, durationMs: 0 })] : []),
    ...lessons.slice(finished.length + 1).map((lesson) =>
      outcome(lesson, { name: `${lesson.id} runs`, pass: true, skipped: true, expected: 'the lesson runs', observed: `not run: the suite stopped at ${stopped?.id ?? 'its end'}`, durationMs: 0 }),
    ),
  ];
}
