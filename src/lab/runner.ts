import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { servesJoinToken, type ClusterProvider } from '../cluster/provider.js';
import { findTool } from '../cluster/tools.js';
import { goToolNamed } from '../forge/catalog.js';
import { ensureGoTool, goToolSource } from '../forge/go-tool.js';
import type { ClusterSpec } from '../cluster/spec.js';
import { prepareLessonImages, type ImageOptions } from '../images/lesson-images.js';
import { applyManifests } from '../kube/apply.js';
import { connect, type ClusterAccess, type Kube } from '../kube/client.js';
import { loadManifests, type Manifest } from '../kube/manifests.js';
import { recordFaults } from '../observe/faults.js';
import { taskList, type OutputMode, type Task } from '../report/tasks.js';
import { faultLines, TimelineRecorder, type Timeline } from '../report/timeline.js';
import { startTrace, traceAfterTheFact, type LiveTrace } from '../trace/recorder.js';
import type { Trace } from '../trace/types.js';
import { CleanupStack } from '../util/cleanup.js';
import { packageRoot, stateDir } from '../util/paths.js';
import { makeTempDir } from '../util/temp.js';
import { claimClusters } from './cluster-claim.js';
import { provisionCluster } from './provision.js';
import type { AssertionResult, Lesson, LessonContext } from './types.js';

export interface SessionOptions {
  assertionTimeoutMs: number;
  signal: AbortSignal;
  output: OutputMode;
  /** Follow the lesson's Deployment hop by hop (watched in a run, from stored times in verify). */
  trace: boolean;
  /** The provider of the lesson's clusters, when kubelab made them (not for --kubeconfig). */
  provider?: ClusterProvider;
}

export interface RunOptions extends SessionOptions {
  provider: ClusterProvider;
  spec: ClusterSpec;
  /** The lesson's companion clusters, on the same provider. */
  companions: ClusterSpec[];
  images: ImageOptions;
  /** Use these manifests instead of the lesson's own (a file or a folder). */
  manifests?: string;
  /** Keep the cluster (and what was applied) after the run. */
  keep: boolean;
}

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
}

interface RunState {
  access?: ClusterAccess;
  companions: Map<string, ClusterAccess>;
  images: string[];
  context?: LessonContext;
  results: AssertionResult[];
  /** The first failure inside a group that runs to completion: later steps are skipped, the run fails with it. */
  setupError?: unknown;
}

/** Marks the run as failed when `task` throws, so later top-level steps do not run. */
function failingRun(task: Task<RunState>): Task<RunState> {
  const body = task.task;
  return {
    ...task,
    task: async (state, wrapper) => {
      try {
        return await body(state, wrapper);
      } catch (error) {
        state.setupError ??= error;
        throw error;
      }
    },
  };
}

export function lessonManifestsDir(lesson: Lesson): string {
  return lesson.home ? resolve(lesson.home, lesson.manifests) : join(packageRoot(), 'manifests', lesson.manifests);
}

async function privateWorkDir(cleanup: CleanupStack): Promise<string> {
  const dir = await makeTempDir('run');
  cleanup.register(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  return dir;
}

function newContext(
  mode: LessonContext['mode'],
  lesson: Lesson,
  state: RunState,
  spec: ClusterSpec,
  options: SessionOptions,
  cleanup: CleanupStack,
  workDir: string,
): LessonContext {
  const companions = new Map<string, Kube>();
  return {
    kube: connect(state.access!),
    access: state.access!,
    cluster: spec,
    namespace: lesson.namespace,
    mode,
    signal: options.signal,
    log: () => {},
    cleanup,
    assertionTimeoutMs: options.assertionTimeoutMs,
    workDir,
    evidence: new Map(),
    timeline: new TimelineRecorder(),
    serverToken: async (cluster) => (options.provider && servesJoinToken(options.provider) ? options.provider.serverToken(cluster, { signal: options.signal }) : undefined),
    companion(name) {
      const access = state.companions.get(name);
      if (!access) throw new Error(`cluster ${name} does not exist (\`kubelab up ${lesson.id}\` creates it beside ${spec.name})`);
      if (!companions.has(name)) companions.set(name, connect(access));
      return companions.get(name)!;
    },
  };
}

function failureText(result: AssertionResult): string {
  return `expected ${result.expected}; observed ${result.observed}`;
}

/** One listr task per assertion; all run even after a failure, so the report names everything that broke. */
function verifyTask(lesson: Lesson, state: RunState): Task<RunState> {
  return {
    title: `verify ${lesson.assertions.length} assertions`,
    task: (_, parent) =>
      parent.newListr(
        lesson.assertions.map((assertion) => ({
          title: assertion.name,
          task: async (_ctx, task) => {
            const context = state.context!;
            context.log = (line) => (task.output = line);
            const started = Date.now();
            if (assertion.onlyOn && !assertion.onlyOn.providers.includes(context.cluster.provider)) {
              const observed = `skipped on ${context.cluster.provider}: ${assertion.onlyOn.why}`;
              state.results.push({ name: assertion.name, pass: true, skipped: true, expected: assertion.expected, observed, durationMs: 0 });
              task.skip(`${assertion.name}: ${observed}`);
              return;
            }
            const judge = context.mode === 'verify' && assertion.afterTheFact ? assertion.afterTheFact : assertion.check;
            const observation = await judge(context).catch((error: Error) => {
              if (context.signal.aborted) throw error;
              return { pass: false, observed: `error: ${error.message}`, diagnostic: undefined };
            });
            const result: AssertionResult = {
              name: assertion.name,
              pass: observation.pass,
              expected: assertion.expected,
              observed: observation.observed,
              durationMs: Date.now() - started,
              ...(observation.diagnostic ? { diagnostic: observation.diagnostic } : {}),
            };
            // A failure that followed a fault (a node NotReady, a pod restarted) names it.
            const faults = result.pass ? [] : faultLines(context.timeline.snapshot());
            if (faults.length > 0) result.diagnostic = [result.diagnostic, 'faults during the run before this check:', ...faults].filter(Boolean).join('\n');
            state.results.push(result);
            if (!result.pass) throw new Error(failureText(result));
            task.title = `${assertion.name}: ${result.observed}`;
          },
        })),
        { exitOnError: false },
      ),
  };
}

const describeCluster = (spec: ClusterSpec) => `cluster ${spec.name} (${spec.servers} server, ${spec.agents} agents)`;

function clusterTasks(lesson: Lesson, options: Omit<RunOptions, 'assertionTimeoutMs' | 'output' | 'manifests' | 'trace'>, cleanup: CleanupStack): Task<RunState>[] {
  const { provider, spec, signal } = options;
  return [
    {
      title: `check ${provider.name} and docker`,
      task: async (_, task) => {
        await forgeMissingTool(provider, { signal, onLine: (line) => (task.output = line) });
        await provider.ensureAvailable();
      },
    },
    {
      title: 'provision the cluster and build the images side by side',
      task: async (state, parent) => {
        await parent.newListr(
          ([
            {
              title: `provision ${provider.name} ${[spec, ...options.companions].map(describeCluster).join(' and ')}`,
              task: async (state, task) => {
                const call = { keep: options.keep, signal, onLine: (l: string) => (task.output = l) };
                state.access = (await provisionCluster(provider, spec, cleanup, call)).access;
                // One after the other: each create already starts its nodes side by side on few cores.
                for (const companion of options.companions) {
                  state.companions.set(companion.name, (await provisionCluster(provider, companion, cleanup, call)).access);
                }
              },
            },
            {
              title: `build images ${lesson.images.map((i) => i.tag).join(', ') || '(none)'}`,
              task: async (state, task) => {
                state.images = await prepareLessonImages(lesson.images, { ...options.images, home: lesson.home, signal, onLine: (l) => (task.output = l) });
              },
            },
          ] as Task<RunState>[]).map(failingRun),
          // Both finish (or fail) before cleanup runs: a half-built image is never orphaned mid-write.
          { concurrent: true, exitOnError: false },
        ).run(state);
        // Without this the group would show ✔ above a failed step.
        if (state.setupError !== undefined) throw new Error('a step above failed');
      },
    },
    {
      title: `import images into ${spec.name}`,
      skip: (state) => state.images.length === 0,
      task: (state, task) => provider.importImages(spec.name, state.images, { signal, onLine: (l) => (task.output = l) }),
    },
  ];
}

/** No registry and maybe no k3d/kind on PATH: kubelab builds the provider's CLI from the Go module proxy. */
async function forgeMissingTool(provider: ClusterProvider, options: { signal: AbortSignal; onLine: (line: string) => void }): Promise<void> {
  const tool = goToolNamed(provider.tool);
  if (!tool || findTool(tool.name)) return;
  options.onLine(`${tool.name} not found: building ${goToolSource(tool)} from the Go module proxy (a few minutes the first time)`);
  await ensureGoTool(tool, options);
}

async function runTasks(tasks: Task<RunState>[], state: RunState, output: OutputMode, signal: AbortSignal): Promise<void> {
  const list = taskList(tasks.map((t) => ({ ...t, enabled: (state: RunState) => state.setupError === undefined })), output);
  const stopped = await list.run(state).then(
    () => undefined,
    (error: unknown) => error,
  );
  // An interrupted assertion records no result: without this, the ones before it would pass the run.
  signal.throwIfAborted();
  if (state.setupError !== undefined) throw state.setupError;
  const failed = list.errors.find((e) => e.path.length <= 2 && !e.path.includes('verify'));
  if (failed) throw failed.error;
  if (stopped !== undefined) throw stopped;
}

/** The clusters a run creates or reuses: the lesson's and its companions. */
const runClusters = (options: Pick<RunOptions, 'spec' | 'companions'>) => [options.spec, ...options.companions];

/** `kubelab up`: the lesson's cluster with its images imported, nothing applied; the cluster stays. */
export async function upLesson(lesson: Lesson, options: Omit<RunOptions, 'keep' | 'assertionTimeoutMs' | 'manifests' | 'trace'>): Promise<ClusterAccess> {
  const cleanup = new CleanupStack();
  const state: RunState = { images: [], results: [], companions: new Map() };
  const release = await claimClusters(runClusters(options), { command: `up ${lesson.id}`, keep: true });
  try {
    await runTasks(clusterTasks(lesson, { ...options, keep: false }, cleanup), state, options.output, options.signal);
    cleanup.clear(); // success: the learner owns the cluster now
    return state.access!;
  } finally {
    await cleanup.runAll();
    await release();
  }
}

/** `kubelab run`: provision and build side by side, import, apply, exercise, verify, clean up. */
export async function runLesson(lesson: Lesson, options: RunOptions): Promise<LessonOutcome> {
  const started = Date.now();
  const cleanup = new CleanupStack();
  const state: RunState = { images: [], results: [], companions: new Map() };
  let trace: LiveTrace | undefined;
  let traced: Trace | undefined;
  let manifests: Manifest[] = [];
  let cleanupFailures: string[] = [];
  let nodeLogsDir: string | undefined;
  let release: (() => Promise<void>) | undefined;
  // Faults (nodes NotReady, pods restarted, the API server away) are watched from apply to the end.
  const faultWatch = new AbortController();
  let faults: Promise<void> | undefined;
  try {
    manifests = await loadManifests(options.manifests ?? lessonManifestsDir(lesson), options.manifests ? '--manifests' : `lesson ${lesson.id}'s manifests`);
    release = await claimClusters(runClusters(options), { command: `run ${lesson.id}`, keep: options.keep });
    const workDir = await privateWorkDir(cleanup);
    await runTasks(
      [
        ...clusterTasks(lesson, options, cleanup),
        {
          title: `apply ${manifests.length} objects`,
          task: async (state, task) => {
            state.context = newContext('run', lesson, state, options.spec, options, cleanup, workDir);
            faults = recordFaults(state.context.kube, lesson.namespace, state.context.timeline, faultWatch.signal);
            if (options.trace && lesson.trace) {
              trace = startTrace(state.context.kube, lesson.namespace, lesson.trace, { signal: options.signal, deadlineMs: options.assertionTimeoutMs });
            }
            const applied = await applyManifests(state.context.kube, manifests, lesson.namespace);
            task.output = applied.map((o) => `${o.manifest.kind.toLowerCase()}/${o.manifest.name}`).join(', ');
            state.context.evidence.set('applied', applied);
          },
        },
        ...lesson.exercise.map((step): Task<RunState> => ({
          title: step.title,
          task: (state, task) => {
            state.context!.log = (line) => (task.output = line);
            return step.run(state.context!);
          },
        })),
        verifyTask(lesson, state),
      ],
      state,
      options.output,
      options.signal,
    );
    if (state.results.some((r) => !r.pass)) {
      const dir = join(stateDir(), 'logs', `${options.spec.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      const files = await options.provider.collectLogs(options.spec.name, dir, { signal: options.signal }).catch(() => []);
      if (files.length > 0) nodeLogsDir = dir;
    }
  } finally {
    traced = await trace?.stop();
    faultWatch.abort();
    await faults;
    cleanupFailures = await cleanup.runAll();
    await release?.();
  }
  return {
    lesson: lesson.id,
    cluster: options.spec.name,
    access: state.access,
    results: state.results,
    ...(nodeLogsDir ? { nodeLogsDir } : {}),
    cleanupFailures,
    durationMs: Date.now() - started,
    ...recordings(state, traced),
  };
}

/** The timeline and trace for the outcome; taken after cleanup, which stops the lesson's recorders. */
function recordings(state: RunState, trace: Trace | undefined): Pick<LessonOutcome, 'timeline' | 'trace'> {
  const timeline = state.context?.timeline;
  return { ...(timeline && !timeline.isEmpty ? { timeline: timeline.snapshot() } : {}), ...(trace ? { trace } : {}) };
}

/**
 * `kubelab verify`: only the assertions, against a cluster built by hand or by `kubelab up`
 * (`companions`: the lesson's other clusters that exist, by name).
 */
export async function verifyLesson(
  lesson: Lesson,
  access: ClusterAccess,
  spec: ClusterSpec,
  options: SessionOptions,
  companions = new Map<string, ClusterAccess>(),
): Promise<LessonOutcome> {
  const started = Date.now();
  const cleanup = new CleanupStack();
  const state: RunState = { images: [], results: [], access, companions };
  let cleanupFailures: string[] = [];
  let traced: Trace | undefined;
  try {
    const workDir = await privateWorkDir(cleanup);
    const context = (state.context = newContext('verify', lesson, state, spec, options, cleanup, workDir));
    await runTasks([verifyTask(lesson, state)], state, options.output, options.signal);
    if (options.trace && lesson.trace) traced = await traceAfterTheFact(context.kube, lesson.namespace, lesson.trace.deployment, options.signal);
  } finally {
    cleanupFailures = await cleanup.runAll();
  }
  return { lesson: lesson.id, cluster: spec.name, access, results: state.results, cleanupFailures, durationMs: Date.now() - started, ...recordings(state, traced) };
}
