import type { ClusterSpec, ProviderName } from '../cluster/spec.js';
import type { ImageRef } from '../images/lesson-images.js';
import type { ClusterAccess, Kube } from '../kube/client.js';
import type { TimelineRecorder } from '../observe/timeline.js';
import type { TraceTarget } from '../trace/recorder.js';
import type { CleanupStack } from '../util/cleanup.js';
import type { Evidence } from './evidence.js';

/** What every step and assertion of a lesson gets. */
export interface LessonContext {
  kube: Kube;
  access: ClusterAccess;
  cluster: ClusterSpec;
  /** The namespace the lesson's objects live in. */
  namespace: string;
  signal: AbortSignal;
  /** A line of progress under the current step. */
  log: (line: string) => void;
  cleanup: CleanupStack;
  /** How long an assertion may wait for the cluster to reach the state it checks. */
  assertionTimeoutMs: number;
  /** A private (0700) directory for this run; removed at cleanup. */
  workDir: string;
  /** What exercise steps measured or made, for the assertions after them, under typed keys (evidenceKey). */
  evidence: Evidence;
  /** "run" exercised the cluster; "verify" only looks at it (see Assertion.afterTheFact). */
  mode: 'run' | 'verify';
  /** Series and events over time, rendered in the terminal summary and the HTML report. */
  timeline: TimelineRecorder;
  /** A companion cluster of the lesson by name; throws (naming what to do) when it does not exist. */
  companion: (name: string) => Kube;
  /** The k3s join token of a kubelab cluster (see JoinTokenServer); undefined when unknown. */
  serverToken: (cluster: string) => Promise<string | undefined>;
}

export interface Observation {
  pass: boolean;
  /** The evidence: what the cluster actually showed. */
  observed: string;
  /** On failure: events, pod states and logs that explain it. */
  diagnostic?: string;
}

/** A named claim the lesson proves, e.g. "Service myapp-service has a ready endpoint on port 5000". */
export interface Assertion {
  name: string;
  /** The expected value, in words. */
  expected: string;
  check: (context: LessonContext) => Promise<Observation>;
  /**
   * For claims about what an exercise makes happen (a scale-up under load): how `kubelab verify`,
   * which runs no exercise, judges them from what the cluster recorded (events) instead.
   */
  afterTheFact?: (context: LessonContext) => Promise<Observation>;
  /** Claims that hold only on some providers (k3s's datastore): reported as skipped elsewhere, with why. */
  onlyOn?: ProviderOnly;
}

export interface ProviderOnly {
  providers: readonly ProviderName[];
  why: string;
}

export interface AssertionResult {
  name: string;
  pass: boolean;
  expected: string;
  observed: string;
  durationMs: number;
  /** Cluster state at failure time (events, pods, logs). */
  diagnostic?: string;
  /** Not checked on this provider (Assertion.onlyOn); `pass` is true and `observed` says why. */
  skipped?: boolean;
}

/** A step that acts on the cluster between apply and verify (load, kubectl-like actions). */
export interface ExerciseStep {
  title: string;
  run: (context: LessonContext) => Promise<void>;
}

export type LessonClusterSpec = Omit<ClusterSpec, 'provider'> & { provider?: ClusterSpec['provider'] };
/** A companion cluster may exist only on some providers (a k3s datastore variant). */
export type CompanionSpec = LessonClusterSpec & { onlyOn?: ProviderOnly };

/** A lesson: its cluster, images and manifests as data, then exercise steps and named assertions. */
export interface Lesson {
  id: string;
  title: string;
  /** One paragraph: what the learner sees happen. */
  summary: string;
  cluster: LessonClusterSpec;
  /**
   * More clusters the lesson runs beside its own (e.g. the same cluster with embedded etcd), with
   * the same provider; created after it, deleted with it.
   */
  companions?: CompanionSpec[];
  images: ImageRef[];
  /** Folder under manifests/ (overridden by --manifests). */
  manifests: string;
  namespace: string;
  exercise: ExerciseStep[];
  assertions: Assertion[];
  /** The Deployment `--trace` follows from apply to its first answer via Ingress. */
  trace?: TraceTarget;
  /**
   * The lesson's folder, against which `manifests` and the images' `app` folders resolve: set by the
   * loader for a lesson file; a lesson a test runner imports as a module sets it itself
   * (`home: import.meta.dirname`). Built-in lessons use kubelab's own manifests/ and apps/.
   */
  home?: string;
}

export function defineLesson(lesson: Lesson): Lesson {
  return lesson;
}
