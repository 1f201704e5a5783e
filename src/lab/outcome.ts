import type { ClusterAccess } from '../kube/client.js';
import type { Timeline } from '../observe/timeline.js';
import type { Trace } from '../trace/types.js';
import type { AssertionResult } from './types.js';

/** One phase of a run and its wall time; provision and images run side by side. */
export interface PhaseTime {
  name: string;
  ms: number;
}

/** What a run or a verify of one lesson found: what the reports render and the exit code is judged on. */
export interface LessonOutcome {
  lesson: string;
  cluster: string;
  access?: ClusterAccess;
  results: AssertionResult[];
  /** Node logs saved after a failed run (kept: they outlive the cluster they explain). */
  nodeLogsDir?: string;
  /** Cleanup steps that failed: kubelab reports leftovers rather than hiding them. */
  cleanupFailures: string[];
  durationMs: number;
  /** What the run recorded over time (load, metrics, replicas, events), when the lesson records any. */
  timeline?: Timeline;
  trace?: Trace;
  /** How long each phase took (tools, provision, images, import, apply, exercise, verify, cleanup), for `run`. */
  phases?: PhaseTime[];
  /** The file holding what the tools printed (library runs; the CLI names it on stderr). */
  toolLog?: string;
}

/** Every assertion passed (there was at least one) and the cleanup left nothing: the CLI's exit 0. */
export function lessonPassed(outcome: LessonOutcome): boolean {
  return outcome.cleanupFailures.length === 0 && outcome.results.length > 0 && outcome.results.every((r) => r.pass);
}
