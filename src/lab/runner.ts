import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterProvider } from '../cluster/provider.js';
import { findTool } from '../cluster/tools.js';
import { goToolNamed } from '../forge/catalog.js';
import { ensureGoTool, goToolSource } from '../forge/go-tool.js';
import type { ClusterSpec } from '../cluster/spec.js';
import { prepareLessonImages, type ImageOptions } from '../images/lesson-images.js';
import { applyManifests } from '../kube/apply.js';
import { connect, type ClusterAccess } from '../kube/client.js';
import { loadManifests, type Manifest } from '../kube/manifests.js';
import { taskList, type OutputMode, type Task } from '../report/tasks.js';
import { CleanupStack } from '../util/cleanup.js';
import { packageRoot, stateDir } from '../util/paths.js';
import { provisionCluster } from './provision.js';
import type { AssertionResult, Lesson, LessonContext } from './types.js';

export interface SessionOptions {
  assertionTimeoutMs: number;
  signal: AbortSignal;
  output: OutputMode;
}

export interface RunOptions extends SessionOptions {
  provider: ClusterProvider;
  spec: ClusterSpec;
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
}

interface RunState {
  access?: ClusterAccess;
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
  return join(packageRoot(), 'manifests', lesson.manifests);
}

async function privateWorkDir(cleanup: CleanupStack): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kubelab-'));
  cleanup.register(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  return dir;
}

function newContext(lesson: Lesson, access: ClusterAccess, spec: ClusterSpec, options: SessionOptions, cleanup: CleanupStack, workDir: string): LessonContext {
  return {
    kube: connect(access),
    access,
    cluster: spec,
    namespace: lesson.namespace,
    signal: options.signal,
    log: () => {},
    cleanup,
    assertionTimeoutMs: options.assertionTimeoutMs,
    workDir,
    evidence: new Map(),
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
            const observation = await assertion.check(context).catch((error: Error) => {
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
            state.results.push(result);
            if (!result.pass) throw new Error(failureText(result));
            task.title = `${assertion.name}: ${result.observed}`;
          },
        })),
        { exitOnError: false },
      ),
  };
}

function clusterTasks(lesson: Lesson, options: Omit<RunOptions, 'assertionTimeoutMs' | 'output' | 'manifests'>, cleanup: CleanupStack): Task<RunState>[] {
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
      task: (_, parent) =>
        parent.newListr(
          ([
            {
              title: `provision ${provider.name} cluster ${spec.name} (${spec.servers} server, ${spec.agents} agents)`,
              task: async (state, task) => {
                const result = await provisionCluster(provider, spec, cleanup, { keep: options.keep, signal, onLine: (l: string) => (task.output = l) });
                state.access = result.access;
              },
            },
            {
              title: `build images ${lesson.images.map((i) => i.tag).join(', ') || '(none)'}`,
              task: async (state, task) => {
                state.images = await prepareLessonImages(lesson.images, { ...options.images, signal, onLine: (l) => (task.output = l) });
              },
            },
          ] as Task<RunState>[]).map(failingRun),
          // Both finish (or fail) before cleanup runs: a half-built image is never orphaned mid-write.
          { concurrent: true, exitOnError: false },
        ),
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
  const tool = provider.tool ? goToolNamed(provider.tool) : undefined;
  if (!tool || findTool(tool.name)) return;
  options.onLine(`${tool.name} not found: building ${goToolSource(tool)} from the Go module proxy (a few minutes the first time)`);
  await ensureGoTool(tool, options);
}

async function runTasks(tasks: Task<RunState>[], state: RunState, output: OutputMode): Promise<void> {
  const list = taskList(tasks.map((t) => ({ ...t, enabled: (state: RunState) => state.setupError === undefined })), output);
  await list.run(state);
  if (state.setupError !== undefined) throw state.setupError;
  const failed = list.errors.find((e) => e.path.length <= 2 && !e.path.includes('verify'));
  if (failed) throw failed.error;
}

/** `kubelab up`: the lesson's cluster with its images imported, nothing applied; the cluster stays. */
export async function upLesson(lesson: Lesson, options: Omit<RunOptions, 'keep' | 'assertionTimeoutMs' | 'manifests'>): Promise<ClusterAccess> {
  const cleanup = new CleanupStack();
  const state: RunState = { images: [], results: [] };
  try {
    await runTasks(clusterTasks(lesson, { ...options, keep: false }, cleanup), state, options.output);
    cleanup.clear(); // success: the learner owns the cluster now
    return state.access!;
  } finally {
    await cleanup.runAll();
  }
}

/** `kubelab run`: provision and build side by side, import, apply, exercise, verify, clean up. */
export async function runLesson(lesson: Lesson, options: RunOptions): Promise<LessonOutcome> {
  const started = Date.now();
  const cleanup = new CleanupStack();
  const state: RunState = { images: [], results: [] };
  let manifests: Manifest[] = [];
  let cleanupFailures: string[] = [];
  let nodeLogsDir: string | undefined;
  try {
    manifests = await loadManifests(options.manifests ?? lessonManifestsDir(lesson));
    const workDir = await privateWorkDir(cleanup);
    await runTasks(
      [
        ...clusterTasks(lesson, options, cleanup),
        {
          title: `apply ${manifests.length} objects`,
          task: async (state, task) => {
            state.context = newContext(lesson, state.access!, options.spec, options, cleanup, workDir);
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
    );
    if (state.results.some((r) => !r.pass)) {
      const dir = join(stateDir(), 'logs', `${options.spec.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      const files = await options.provider.collectLogs(options.spec.name, dir, { signal: options.signal }).catch(() => []);
      if (files.length > 0) nodeLogsDir = dir;
    }
  } finally {
    cleanupFailures = await cleanup.runAll();
  }
  return {
    lesson: lesson.id,
    cluster: options.spec.name,
    access: state.access,
    results: state.results,
    ...(nodeLogsDir ? { nodeLogsDir } : {}),
    cleanupFailures,
    durationMs: Date.now() - started,
  };
}

/** `kubelab verify`: only the assertions, against a cluster built by hand or by `kubelab up`. */
export async function verifyLesson(lesson: Lesson, access: ClusterAccess, spec: ClusterSpec, options: SessionOptions): Promise<LessonOutcome> {
  const started = Date.now();
  const cleanup = new CleanupStack();
  const state: RunState = { images: [], results: [], access };
  let cleanupFailures: string[] = [];
  try {
    const workDir = await privateWorkDir(cleanup);
    state.context = newContext(lesson, access, spec, options, cleanup, workDir);
    await runTasks([verifyTask(lesson, state)], state, options.output);
  } finally {
    cleanupFailures = await cleanup.runAll();
  }
  return { lesson: lesson.id, cluster: spec.name, access, results: state.results, cleanupFailures, durationMs: Date.now() - started };
}
