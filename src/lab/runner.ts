import { setMaxListeners } from 'node:events';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Listr } from 'listr2';
import { servesJoinToken, type ClusterProvider, type ProviderCallOptions } from '../cluster/provider.js';
import { MACHINE_REGISTRY_TOOL } from '../cluster/machine-registry.js';
import { findTool } from '../cluster/tools.js';
import { describeError, EnvironmentError, KubelabError } from '../errors.js';
import type { Fault } from '../observe/fault.js';
import { goToolNamed } from '../forge/catalog.js';
import { ensureGoTool, goToolSource } from '../forge/go-tool.js';
import type { ClusterSpec } from '../cluster/spec.js';
import { prepareLessonImages, type ImageOptions } from '../images/lesson-images.js';
import type { PullPolicy } from '../images/image-source.js';
import { applyManifests } from '../kube/apply.js';
import { connect, type ClusterAccess, type Kube } from '../kube/client.js';
import { deleteApplied } from '../kube/delete.js';
import { loadManifests, type Manifest } from '../kube/manifests.js';
import { recordFaults } from '../observe/faults.js';
import { taskList, type OutputMode, type Task } from '../report/tasks.js';
import { faultLines, TimelineRecorder } from '../observe/timeline.js';
import { startTrace, traceAfterTheFact, type LiveTrace } from '../trace/recorder.js';
import type { Trace } from '../trace/types.js';
import { cleaningUp, CleanupStack } from '../util/cleanup.js';
import { packageRoot, stateDir } from '../util/paths.js';
import { makeTempDir } from '../util/temp.js';
import { claimClusters } from './cluster-claim.js';
import type { LessonOutcome, PhaseTime } from './outcome.js';
import { Evidence } from './evidence.js';
import { provisionCluster } from './provision.js';
import { checkLessonFits, claimExistingCluster, type ExistingCluster, type OwnedObjects } from './existing-cluster.js';
import { mirrorImages, pushImages } from '../images/push.js';
import { REGISTRY_IMAGE } from '../forge/registry-image.js';
import { pinImages } from '../kube/pin-images.js';
import type { AssertionResult, ExerciseStep, Lesson, LessonContext } from './types.js';

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
  /** Set for a lesson of a suite (lab/suite.ts), which owns, claims and deletes the clusters its lessons share. */
  suite?: SuiteMembership;
  /** Run in this cluster kubelab did not make (`spec` then only describes the lesson's own): nothing provisioned or imported. */
  existing?: ExistingCluster;
}

/** What a suite gives one of its lessons. */
export interface SuiteMembership {
  /** Creates one of the lesson's clusters, or hands over the one the lesson before left up. */
  provision: (spec: ClusterSpec, call: ProviderCallOptions & { pull: PullPolicy; viaRegistry: boolean }) => Promise<ClusterAccess>;
  /** Clusters the lesson before left up for this one. */
  reuses: string[];
  /** The next lesson runs on this lesson's cluster: what this lesson applied is deleted once it is done. */
  removeApplied: boolean;
}


interface RunState {
  access?: ClusterAccess;
  companions: Map<string, ClusterAccess>;
  images: string[];
  context?: LessonContext;
  results: AssertionResult[];
  /** The first failure inside a group that runs to completion: later steps are skipped, the run fails with it. */
  setupError?: unknown;
  /** When each phase ran (outcome.phases): where a run's time goes. */
  clock: PhaseClock;
  /** In an existing cluster: what the run may create (and deletes afterwards). */
  owned?: OwnedObjects;
  /** The images as pushed to a registry (built tag -> reference by digest), when they go through one. */
  pushed?: Map<string, string>;
}

/**
 * Start and end of each named phase. A phase whose task hands listr a list of subtasks (verify)
 * ends when the run's tasks end; phases side by side (provision, images) each keep their own times.
 */
class PhaseClock {
  private readonly spans = new Map<string, { startedAt: number; endedAt?: number }>();

  start(name: string): void {
    if (!this.spans.has(name)) this.spans.set(name, { startedAt: Date.now() });
  }

  end(name: string): void {
    this.spans.get(name)!.endedAt = Date.now();
  }

  /** Ends what is still open, e.g. when the run's tasks have all returned. */
  endOpen(): void {
    for (const span of this.spans.values()) span.endedAt ??= Date.now();
  }

  record(name: string, ms: number): void {
    const now = Date.now();
    this.spans.set(name, { startedAt: now - ms, endedAt: now });
  }

  times(): PhaseTime[] {
    return [...this.spans].map(([name, span]) => ({ name, ms: (span.endedAt ?? Date.now()) - span.startedAt }));
  }
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
    evidence: new Evidence(),
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
    task: async (_, parent) => {
      const before = state.results.length;
      await parent.newListr(
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
      ).run(state);
      // Without this the group would show ✔ above failed assertions; the results already say which.
      const failed = state.results.slice(before).filter((result) => !result.pass).length;
      if (failed > 0) throw new RecordedStepFailure(`${failed} of ${lesson.assertions.length} assertions failed`);
    },
  };
}

/** An exercise step's failure, already in the results: the run ends with its outcome (report, faults, node logs), not an exception. */
class RecordedStepFailure extends Error {}

/**
 * One exercise step. A step that fails is a failed result named after it, with the faults seen
 * before it (a node killed under load breaks the load, not the run's report); later steps and the
 * verify do not run. kubelab's own errors (bad input, environment) keep their exit codes.
 */
function exerciseTask(step: ExerciseStep): Task<RunState> {
  return {
    title: step.title,
    task: async (state, task) => {
      const context = state.context!;
      context.log = (line) => (task.output = line);
      const started = Date.now();
      try {
        await step.run(context);
      } catch (error) {
        if (context.signal.aborted || error instanceof KubelabError) throw error;
        const faults = faultLines(context.timeline.snapshot());
        state.results.push({
          name: step.title,
          pass: false,
          expected: 'the step completes',
          observed: `error: ${describeError(error)}`,
          durationMs: Date.now() - started,
          ...(faults.length > 0 ? { diagnostic: ['faults during the run before this step:', ...faults].join('\n') } : {}),
        });
        throw new RecordedStepFailure(describeError(error));
      }
    },
  };
}

const describeCluster = (spec: ClusterSpec) => `cluster ${spec.name} (${spec.servers} server, ${spec.agents} agents)`;

/** What `up` needs to bring a lesson's clusters up with its images. */
type ClusterOptions = Omit<RunOptions, 'assertionTimeoutMs' | 'manifests' | 'trace'>;

/** What every phase of one lesson's session reads: the lesson, the caller's options, the run's state and its cleanup. */
interface Session<O> {
  lesson: Lesson;
  options: O;
  state: RunState;
  cleanup: CleanupStack;
}

/** What `run` adds: the manifests read up front, the private work dir, and the recorders started at apply. */
interface RunSession extends Session<RunOptions> {
  manifests: Manifest[];
  workDir: string;
  recording: { faultWatch: AbortController; faults?: Promise<void>; trace?: LiveTrace; onClusterRemoved: (fault: Fault) => void };
}

/**
 * A named part of a lesson session, as listr tasks. `run`, `up` and `verify` are lists of phases in
 * order (like kind's create actions); the cleanup phase is the session's CleanupStack, run however
 * the session ends.
 */
type Phase<S> = (session: S) => Task<RunState>[];

/** tools: the provider's CLI (forged when missing) and docker answering. */
const tools: Phase<Session<ClusterOptions>> = ({ options: { provider, images, signal } }) => [
  {
    title: `check ${provider.name} and docker`,
    task: async (_, task) => {
      const needed = [provider.tool, ...(images.via === 'registry' ? [MACHINE_REGISTRY_TOOL] : [])];
      for (const tool of new Set(needed)) await forgeMissingTool(tool, { signal, onLine: (line) => (task.output = line) });
      await provider.ensureAvailable();
    },
  },
];

/** provision: the lesson's cluster, then its companions; each registered for deletion as it is created (a suite's outlive the lesson). */
const provision: Phase<Session<ClusterOptions>> = ({ options, cleanup }) => {
  const clusters = [options.spec, ...options.companions];
  const reused = clusters.filter((spec) => options.suite?.reuses.includes(spec.name));
  const created = clusters.filter((spec) => !reused.includes(spec));
  const title = [
    ...(created.length > 0 ? [`provision ${options.provider.name} ${created.map(describeCluster).join(' and ')}`] : []),
    ...(reused.length > 0 ? [`reuse ${options.provider.name} ${reused.map((spec) => `cluster ${spec.name}`).join(' and ')} from the lesson before`] : []),
  ].join('; ');
  return [
    {
      title,
      task: async (state, task) => {
        const call = { pull: options.images.pull, viaRegistry: options.images.via === 'registry', signal: options.signal, onLine: (l: string) => (task.output = l) };
        const up = (spec: ClusterSpec) =>
          options.suite ? options.suite.provision(spec, call) : provisionCluster(options.provider, spec, cleanup, { ...call, keep: options.keep }).then((r) => r.access);
        state.access = await up(options.spec);
        // One after the other: each create already starts its nodes side by side on few cores.
        for (const companion of options.companions) state.companions.set(companion.name, await up(companion));
      },
    },
  ];
};

/** images: the lesson's app images, built (or found current) on the host. */
const images: Phase<Session<ClusterOptions>> = ({ lesson, options }) => [
  {
    title: `build images ${lesson.images.map((i) => i.tag).join(', ') || '(none)'}`,
    task: async (state, task) => {
      state.images = await prepareLessonImages(lesson.images, { ...options.images, home: lesson.home, signal: options.signal, onLine: (l) => (task.output = l) });
    },
  },
];

/** Phases that run side by side as one step; both finish (or fail) before cleanup runs, so a half-built image is never orphaned mid-write. */
const sideBySide =
  <S>(title: string, ...phases: Phase<S>[]): Phase<S> =>
  (session) => [
    {
      title,
      task: async (state, parent) => {
        await parent.newListr(phases.flatMap((phase) => phase(session)).map(failingRun), { concurrent: true, exitOnError: false }).run(state);
        // Without this the group would show ✔ above a failed step.
        if (state.setupError !== undefined) throw new Error('a step above failed');
      },
    },
  ];

/** import: the built images into every node of the lesson's cluster. */
const importImages: Phase<Session<ClusterOptions>> = ({ options: { provider, spec, signal } }) => [
  {
    title: `import images into ${spec.name}`,
    skip: (state) => state.images.length === 0,
    task: (state, task) => provider.importImages(spec.name, state.images, { signal, onLine: (l) => (task.output = l) }),
  },
];

/** connect: a cluster kubelab did not make answers, and holds none of the objects the lesson creates. */
const connectExisting: Phase<RunSession> = ({ lesson, options, manifests }) => {
  const existing = options.existing!;
  return [
    {
      title: `use context ${existing.access.context} of ${existing.access.kubeconfig}${existing.registry ? `, images through ${existing.registry}` : ''}`,
      task: async (state) => {
        state.owned = await claimExistingCluster(connect(existing.access), lesson, existing, manifests, options.signal);
        state.access = existing.access;
      },
    },
  ];
};

/**
 * push: the built images into a registry, pinned by digest for the apply: the user's (`--registry`,
 * for a cluster kubelab did not make) or the machine's, from which the nodes that run them pull them.
 */
const pushImagesPhase: Phase<Session<ClusterOptions>> = ({ options: { existing, provider, signal } }) => [
  {
    title: existing ? `push images to ${existing.registry}` : "push images to the nodes' registry",
    skip: (state) => state.images.length === 0,
    task: async (state, task) => {
      const onLine = (l: string) => (task.output = l);
      // The machine's was started with the cluster (provision); found again here, also for a lesson on a cluster the lesson before left up.
      const registry = existing ? { push: existing.registry!, pullAs: existing.registry! } : await provider.startRegistry!(REGISTRY_IMAGE, { signal, onLine });
      state.pushed = await pushImages(state.images, registry.push, { signal, onLine, pullAs: registry.pullAs });
      // Nodes that mirror docker.io to the machine registry (k3d) find the images under their Docker
      // Hub names too: a manifest applied by hand (image: nginx:latest, IfNotPresent) pulls them.
      if (!existing && provider.addonsViaRegistry) await mirrorImages(state.images.map((image) => ({ local: image, name: image })), registry.push, { signal, onLine });
    },
  },
];

/** apply: the lesson's context, its fault watch and trace started, then its manifests server-side applied. */
const apply: Phase<RunSession> = ({ lesson, options, cleanup, manifests, workDir, recording }) => [
  {
    title: `apply ${manifests.length} objects`,
    task: async (state, task) => {
      state.context = newContext('run', lesson, state, options.spec, options, cleanup, workDir);
      const nodeContainers = options.existing ? undefined : { label: options.provider.nodeLabel(options.spec.name), onRemoved: recording.onClusterRemoved };
      recording.faults = recordFaults(state.context.kube, lesson.namespace, state.context.timeline, recording.faultWatch.signal, nodeContainers);
      if (options.trace && lesson.trace) {
        recording.trace = startTrace(state.context.kube, lesson.namespace, lesson.trace, { signal: options.signal, deadlineMs: options.assertionTimeoutMs });
      }
      const { kube } = state.context;
      if (state.owned && !options.keep) {
        // Registered before the apply: one cut short still leaves nothing it created.
        const owned = state.owned.placed;
        cleanup.register(`delete what lesson ${lesson.id} created in context ${options.existing!.access.context} (${owned.length} objects)`, () =>
          deleteApplied(kube, owned, { timeoutMs: options.assertionTimeoutMs }),
        );
      }
      const toApply = state.owned?.manifests ?? manifests;
      const applied = await applyManifests(kube, state.pushed ? pinImages(toApply, state.pushed) : toApply, lesson.namespace);
      if (options.suite?.removeApplied) {
        // Interrupted, the suite deletes the cluster itself; field patches of the lesson's own objects go with them.
        cleanup.register(`delete lesson ${lesson.id}'s ${applied.length} objects`, () =>
          options.signal.aborted ? undefined : deleteApplied(kube, applied, { timeoutMs: options.assertionTimeoutMs }),
        );
      }
      task.output = applied.map((o) => `${o.manifest.kind.toLowerCase()}/${o.manifest.name}`).join(', ');
    },
  },
];

/** exercise: the lesson's steps, in order. */
const exercise: Phase<Session<unknown>> = ({ lesson }) => lesson.exercise.map((step) => exerciseTask(step));

/** verify: every assertion, each its own task. */
const verify: Phase<Session<unknown>> = ({ lesson, state }) => [verifyTask(lesson, state)];

/** `phase`, its time kept under `name` in the run's PhaseClock. */
const timed =
  <S>(name: string, phase: Phase<S>): Phase<S> =>
  (session) =>
    phase(session).map((task) => ({
      ...task,
      task: async (state, wrapper) => {
        state.clock.start(name);
        let result: unknown;
        try {
          result = await task.task(state, wrapper);
          return result;
        } finally {
          // A list of subtasks returned to listr runs after this: its end is the run's.
          if (!(result instanceof Listr)) state.clock.end(name);
        }
      },
    }));

const PROVISION_PHASES: Phase<Session<ClusterOptions>>[] = [
  timed('tools', tools),
  sideBySide('provision the cluster and build the images side by side', timed('provision', provision), timed('images', images)),
];
/** `kubelab up`: the lesson's clusters with its images imported, nothing applied. */
const UP_PHASES: Phase<Session<ClusterOptions>>[] = [...PROVISION_PHASES, timed('import', importImages)];
const LESSON_PHASES: Phase<RunSession>[] = [timed('apply', apply), timed('exercise', exercise), timed('verify', verify)];
/** `kubelab run`: up, then apply, exercise, verify. */
const RUN_PHASES: Phase<RunSession>[] = [...UP_PHASES, ...LESSON_PHASES];
/** `kubelab run --images-via registry`: the images pushed once, pulled by the nodes that run them. */
const RUN_VIA_REGISTRY_PHASES: Phase<RunSession>[] = [...PROVISION_PHASES, timed('push', pushImagesPhase), ...LESSON_PHASES];
/** `kubelab run --kubeconfig`: into a cluster kubelab did not make, images through the user's registry. */
const RUN_IN_EXISTING_PHASES: Phase<RunSession>[] = [timed('connect', connectExisting), timed('images', images), timed('push', pushImagesPhase), ...LESSON_PHASES];
/** `kubelab verify`: only the assertions, against a cluster that exists. */
const VERIFY_PHASES: Phase<Session<SessionOptions>>[] = [verify];

const tasksOf = <S>(phases: Phase<S>[], session: S) => phases.flatMap((phase) => phase(session));


/** No registry and maybe no k3d/kind on PATH: kubelab builds the CLI from the Go module proxy. */
async function forgeMissingTool(name: string, options: { signal: AbortSignal; onLine: (line: string) => void }): Promise<void> {
  const tool = goToolNamed(name);
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
  const failed = list.errors.find((e) => e.path.length <= 2 && !e.path.includes('verify') && !(e.error instanceof RecordedStepFailure));
  if (failed) throw failed.error;
  if (stopped !== undefined && !(stopped instanceof RecordedStepFailure)) throw stopped;
}

/** The clusters a run creates or reuses: the lesson's and its companions. */
const runClusters = (options: Pick<RunOptions, 'spec' | 'companions'>) => [options.spec, ...options.companions];

/** `kubelab up`: the lesson's cluster with its images imported, nothing applied; the cluster stays. */
export async function upLesson(lesson: Lesson, options: Omit<ClusterOptions, 'keep'>): Promise<ClusterAccess> {
  const cleanup = new CleanupStack();
  const state: RunState = { images: [], results: [], companions: new Map(), clock: new PhaseClock() };
  const release = await claimClusters(runClusters(options), { command: `up ${lesson.id}`, keep: true });
  const body = async () => {
    await runTasks(tasksOf(UP_PHASES, { lesson, options: { ...options, keep: false }, state, cleanup }), state, options.output, options.signal);
    cleanup.clear(); // success: the learner owns the cluster now
    return state.access!;
  };
  const { value } = await cleaningUp(body, async () => {
    const failures = await cleanup.runAll();
    await release();
    return failures;
  });
  return value;
}

/** `kubelab run`: provision and build side by side, import, apply, exercise, verify, clean up. */
export async function runLesson(lesson: Lesson, options: RunOptions): Promise<LessonOutcome> {
  const started = Date.now();
  const cleanup = new CleanupStack();
  const state: RunState = { images: [], results: [], companions: new Map(), clock: new PhaseClock() };
  let traced: Trace | undefined;
  let nodeLogsDir: string | undefined;
  let release: (() => Promise<void>) | undefined;
  // A cluster deleted under the run (`down --force`, `k3d cluster delete`) ends it at once, as an
  // environment error, instead of every later wait running to its deadline against a cluster that is gone.
  const clusterGone = new AbortController();
  const signal = AbortSignal.any([options.signal, clusterGone.signal]);
  setMaxListeners(200, signal); // as the CLI's own: every watch and request of the run listens on it
  options = { ...options, signal };
  // Faults (nodes NotReady, pods restarted, the API server away) are watched from apply to the end.
  const recording: RunSession['recording'] = {
    faultWatch: new AbortController(),
    onClusterRemoved: (fault) =>
      clusterGone.abort(new EnvironmentError(`cluster ${options.spec.name} was deleted during the run: ${fault.object} ${fault.message}`, 'kubelab list shows which runs use which clusters; run the lesson again')),
  };
  const body = async () => {
    if (options.existing) checkLessonFits(lesson, options.existing);
    const manifests = await loadManifests(options.manifests ?? lessonManifestsDir(lesson), options.manifests ? '--manifests' : `lesson ${lesson.id}'s manifests`);
    // A suite has claimed its lessons' clusters for its whole run; a cluster kubelab did not make is the user's.
    if (!options.suite && !options.existing) release = await claimClusters(runClusters(options), { command: `run ${lesson.id}`, keep: options.keep });
    const workDir = await privateWorkDir(cleanup);
    const phases = options.existing ? RUN_IN_EXISTING_PHASES : options.images.via === 'registry' ? RUN_VIA_REGISTRY_PHASES : RUN_PHASES;
    await runTasks(tasksOf(phases, { lesson, options, state, cleanup, manifests, workDir, recording }), state, options.output, options.signal).finally(() =>
      state.clock.endOpen(),
    );
    if (state.results.some((r) => !r.pass) && !options.existing) {
      const dir = join(stateDir(), 'logs', `${options.spec.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      const files = await options.provider.collectLogs(options.spec.name, dir, { signal: options.signal }).catch(() => []);
      if (files.length > 0) nodeLogsDir = dir;
    }
  };
  const { cleanupFailures } = await cleaningUp(body, async () => {
    traced = await recording.trace?.stop();
    recording.faultWatch.abort();
    await recording.faults;
    const cleanupStarted = Date.now();
    const failures = await cleanup.runAll();
    state.clock.record('cleanup', Date.now() - cleanupStarted);
    await release?.();
    return failures;
  });
  return {
    lesson: lesson.id,
    cluster: options.existing ? options.existing.access.context : options.spec.name,
    access: state.access,
    results: state.results,
    ...(nodeLogsDir ? { nodeLogsDir } : {}),
    cleanupFailures,
    durationMs: Date.now() - started,
    phases: state.clock.times(),
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
  const state: RunState = { images: [], results: [], access, companions, clock: new PhaseClock() };
  let traced: Trace | undefined;
  const body = async () => {
    const workDir = await privateWorkDir(cleanup);
    const context = (state.context = newContext('verify', lesson, state, spec, options, cleanup, workDir));
    await runTasks(tasksOf(VERIFY_PHASES, { lesson, options, state, cleanup }), state, options.output, options.signal);
    if (options.trace && lesson.trace) traced = await traceAfterTheFact(context.kube, lesson.namespace, lesson.trace.deployment, options.signal);
  };
  const { cleanupFailures } = await cleaningUp(body, () => cleanup.runAll());
  return { lesson: lesson.id, cluster: spec.name, access, results: state.results, cleanupFailures, durationMs: Date.now() - started, ...recordings(state, traced) };
}
