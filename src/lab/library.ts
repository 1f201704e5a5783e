import type { ProviderName } from '../cluster/spec.js';
import { InputError } from '../errors.js';
import type { PullPolicy } from '../images/image-source.js';
import type { ImagesVia } from '../images/lesson-images.js';
import { apiServerVersion } from '../kube/api-version.js';
import { connect } from '../kube/client.js';
import { usableContext } from '../kube/kubeconfig-check.js';
import { endToolLog, startToolLog } from '../util/tool-log.js';
import { loadLesson } from './catalog.js';
import { clusterSpecFor, lessonClustersFor } from './lesson-clusters.js';
import type { LessonOutcome } from './outcome.js';
import { existingTargetOf, type ExistingCluster } from './existing-cluster.js';
import { runLesson as runWith, verifyLesson as verifyWith } from './runner.js';
import type { Lesson } from './types.js';

/**
 * kubelab as a library, for test suites in other projects (jest, vitest): a lesson run or verify
 * returns its outcome rather than printing it and exiting. `lessonPassed(outcome)` is what the CLI's
 * exit 0 means. Progress is silent unless asked for; what the tools print (docker build, k3d, go)
 * goes to a log file named in `outcome.toolLog`; errors are thrown as the CLI's (InputError,
 * EnvironmentError, ... each with its exitCode).
 */

/** Runs `call` with the tools' output going to its own log file, and names that file in the outcome. */
async function withToolLog(command: string, call: () => Promise<LessonOutcome>): Promise<LessonOutcome> {
  startToolLog(command, false);
  let outcome: LessonOutcome | undefined;
  try {
    outcome = await call();
  } finally {
    const log = await endToolLog();
    if (outcome && log) outcome = { ...outcome, toolLog: log.path };
  }
  return outcome;
}

interface SessionChoices {
  /** How long each assertion may wait for the cluster, in seconds (default: 300 for a run, 60 for a verify). */
  timeoutSeconds?: number;
  /** Print progress lines as `kubelab` does in CI (default: nothing). */
  progress?: boolean;
  /** Follow the lesson's Deployment hop by hop (outcome.trace). */
  trace?: boolean;
  /** Stops the run, which then cleans up before its promise settles. */
  signal?: AbortSignal;
}

export interface RunLessonOptions extends SessionChoices {
  /** `k3d` or `kind` (default: the lesson's). */
  provider?: ProviderName;
  /** Another name for the lesson's cluster. */
  clusterName?: string;
  /** Another node image. */
  nodeImage?: string;
  /** Where node, helper and base images come from, as `--pull` (default `missing`). */
  pull?: PullPolicy;
  /** How the images reach the nodes, as `--images-via` (default `registry`). */
  imagesVia?: ImagesVia;
  /** Apply these manifests (a file or a folder) instead of the lesson's own. */
  manifests?: string;
  /** Keep the cluster afterwards (outcome.access has its kubeconfig); with `kubeconfig`, keep what the lesson created. */
  keep?: boolean;
  /**
   * Run in this cluster of yours instead of making one (`kubelab run --kubeconfig`): only objects that
   * do not exist there are created, and exactly those are deleted afterwards.
   */
  kubeconfig?: string;
  /** With `kubeconfig`: its context (default: the current one). */
  context?: string;
  /** With `kubeconfig`: the registry the lesson's images are pushed to, as the cluster's nodes pull from it (`localhost:5001`). */
  registry?: string;
}

export interface VerifyLessonOptions extends SessionChoices {
  /** The kubeconfig of the cluster to judge. */
  kubeconfig: string;
  /** Its context (default: the kubeconfig's current one). */
  context?: string;
}

function timeoutMs(seconds: number | undefined, fallback: number): number {
  const value = seconds ?? fallback;
  if (!Number.isInteger(value) || value < 1) throw new InputError(`timeoutSeconds: ${value} is not a whole number of seconds`);
  return value * 1000;
}

const lessonOf = (lesson: Lesson | string) => (typeof lesson === 'string' ? loadLesson(lesson) : Promise.resolve(lesson));

/** The cluster of the caller's that `kubeconfig` names, with the registry images reach it through; undefined when kubelab makes the cluster. */
async function existingClusterOf(options: RunLessonOptions): Promise<ExistingCluster | undefined> {
  if (!options.kubeconfig && options.context) throw new InputError('context names a context of a kubeconfig of yours: give kubeconfig too');
  const target = existingTargetOf({
    named: Boolean(options.kubeconfig),
    namedBy: 'kubeconfig',
    ...(options.registry === undefined ? {} : { registry: { option: 'registry', value: options.registry } }),
    makeOptions: (['provider', 'clusterName', 'nodeImage', 'imagesVia'] as const).filter((name) => options[name] !== undefined),
  });
  if (!target) return undefined;
  const access = { kubeconfig: options.kubeconfig!, context: await usableContext(options.kubeconfig!, options.context) };
  return { access, ...target };
}

/** `kubelab run` as a call: provisions, builds, applies, exercises, verifies and cleans up (unless `keep`). */
export async function runLesson(lesson: Lesson | string, options: RunLessonOptions = {}): Promise<LessonOutcome> {
  const loaded = await lessonOf(lesson);
  const existing = await existingClusterOf(options);
  return withToolLog('run', () => runWith(loaded, {
    ...(existing ? { existing } : {}),
    ...lessonClustersFor(loaded, { provider: options.provider, name: options.clusterName, image: options.nodeImage, pull: options.pull, imagesVia: options.imagesVia }),
    ...(options.manifests ? { manifests: options.manifests } : {}),
    keep: options.keep ?? false,
    assertionTimeoutMs: timeoutMs(options.timeoutSeconds, 300),
    signal: options.signal ?? new AbortController().signal,
    output: options.progress ? 'plain' : 'silent',
    trace: options.trace ?? false,
  }));
}

/** `kubelab verify --kubeconfig` as a call: only the lesson's assertions, against a cluster you have. */
export async function verifyLesson(lesson: Lesson | string, options: VerifyLessonOptions): Promise<LessonOutcome> {
  const loaded = await lessonOf(lesson);
  const signal = options.signal ?? new AbortController().signal;
  const access = { kubeconfig: options.kubeconfig, context: await usableContext(options.kubeconfig, options.context) };
  await apiServerVersion(connect(access), { signal });
  return verifyWith(loaded, access, clusterSpecFor(loaded, {}), {
    assertionTimeoutMs: timeoutMs(options.timeoutSeconds, 60),
    signal,
    output: options.progress ? 'plain' : 'silent',
    trace: options.trace ?? false,
  });
}
