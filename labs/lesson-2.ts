import {
  applyFields,
  defineLesson,
  deploymentAvailable,
  formatLoadSummary,
  hpaReadsMetrics,
  nodesReady,
  podsSpread,
  recordEvents,
  recordPodMetrics,
  recordScaling,
  requestUntil,
  rescaleEvent,
  runLoad,
  scaledAbove,
  scalesDownAfterLoad,
  STOP_LOAD,
  type LessonContext,
} from '../src/index.js';
import lesson1 from './lesson-1.js';

/**
 * HEAD requests run the app's whole route (Flask's send_file on test.txt) without the 10 MB body:
 * with GET, 2 cores spent the load on Traefik and the client, the pods stayed near 50% and the HPA
 * stopped at 4, where the memory its idle workers keep (about 52% of the request) pins it. Driven
 * to its limits the HPA climbs higher, so the scale-down after the load is visible. Long enough for
 * metrics-server (15 s resolution) and the HPA (15 s sync) to react; the scale-down assertion stops
 * it earlier, once the scale-up has settled.
 */
const LOAD = { method: 'HEAD', concurrency: 8, durationMs: 240_000, maxRequests: 100_000 } as const;

const TARGET = { url: 'http://127.0.0.1:8081/', host: 'myapp.local' };

/** The course's HPA has no behavior: scale-down would wait the default 300 s. */
const STABILIZATION_WINDOW_SECONDS = 30;

async function shortenScaleDownWindow(context: LessonContext): Promise<void> {
  const behavior = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'myapp-hpa', namespace: context.namespace },
    spec: { behavior: { scaleDown: { stabilizationWindowSeconds: STABILIZATION_WINDOW_SECONDS } } },
  };
  await applyFields(context.kube, behavior, 'kubelab-lesson-2');
  const note = `kubelab shortened the HPA's scale-down stabilization window from the default 300 s to ${STABILIZATION_WINDOW_SECONDS} s (spec.behavior.scaleDown, its own field manager) to keep the run short; the course's manifest is unchanged`;
  context.timeline.note(note);
  context.log(note);
}

/** The timeline's recorders run until cleanup: metrics, replicas and utilization, events. */
function startRecorders(context: LessonContext): void {
  const stop = new AbortController();
  const signal = AbortSignal.any([context.signal, stop.signal]);
  const recorders = Promise.all([
    recordPodMetrics(context.kube, context.namespace, context.timeline, { intervalMs: 5000, signal }),
    recordScaling(context.kube, context.namespace, { hpa: 'myapp-hpa', deployment: 'myapp' }, context.timeline, signal),
    recordEvents(context.kube, context.namespace, context.timeline, signal),
  ]);
  context.cleanup.register('stop the timeline recorders', async () => {
    stop.abort();
    await recorders.catch(() => undefined);
  });
}

/** As the learner does: open the page once it answers, then keep reloading it. */
async function startLoad(context: LessonContext): Promise<void> {
  const first = await requestUntil({
    ...TARGET,
    signal: context.signal,
    accept: (answer) => answer.status === 200,
    deadline: Date.now() + context.assertionTimeoutMs,
    retryMs: 250,
    maxBodyBytes: 0,
  });
  if (!first.accepted) {
    throw new Error(`the app never answered 200 through the Ingress before the load: ${first.answer ? `HTTP ${first.answer.status}` : first.error?.message}`);
  }
  context.log(`the app answers through the Ingress after ${first.attempts} tries: starting the load`);
  const stop = new AbortController();
  const { timeline } = context;
  timeline.chart('throughput', 'Load through the Ingress (responses per second)');
  timeline.chart('latency', 'Load latency (p99, ms)');
  timeline.event({ source: 'kubelab', reason: 'LoadStarted', message: `${LOAD.concurrency} connections sending ${LOAD.method} / to 127.0.0.1:8081 (Host: myapp.local)` });
  const load = runLoad({
    ...TARGET,
    ...LOAD,
    signal: AbortSignal.any([context.signal, stop.signal]),
    progressIntervalMs: 5000,
    onProgress: (sample, totals) => {
      timeline.point('throughput', 'responses/s', 'req/s', Math.round(sample.rps * 10) / 10);
      timeline.point('latency', 'p99', 'ms', Math.round(sample.p99Ms));
      context.log(`load: ${totals.completed} responses, ${sample.rps.toFixed(1)} req/s, p99 ${sample.p99Ms.toFixed(0)} ms`);
    },
  });
  let stopped: Promise<void> | undefined;
  const stopLoad = () =>
    (stopped ??= (async () => {
      stop.abort();
      const result = await load.catch(() => undefined);
      timeline.event({ source: 'kubelab', reason: 'LoadStopped', message: result ? formatLoadSummary(result).replaceAll('\n', '; ') : 'load ended with an error' });
    })());
  context.cleanup.register('stop the load', stopLoad);
  load.then((result) => context.log(formatLoadSummary(result))).catch(() => undefined);
  context.evidence.set(STOP_LOAD, stopLoad);
}

/**
 * Lesson 2, Horizontal Pod Autoscaler: the file-server app (a ~10 MB test.txt per request) with
 * small requests and limits, an HPA on cpu and memory at 60%, and load through the Ingress.
 */
export default defineLesson({
  id: 'lesson-2',
  title: 'Horizontal Pod Autoscaler: scaling a file server on cpu and memory',
  summary:
    'kubelab requests test.txt (HEAD) through the Ingress at 127.0.0.1:8081 (Host: myapp.local) until the HPA ' +
    'reads utilization above 60% from metrics-server, emits SuccessfulRescale and the Deployment grows above one replica; ' +
    'then it stops the load and watches the HPA scale back toward one, recording the timeline.',
  // The course: "same cluster (delete lesson 1's first)".
  cluster: lesson1.cluster,
  images: [{ app: 'file-server', tag: 'myapp:hpa-test' }],
  manifests: 'lesson-2',
  namespace: 'hpa-test',
  trace: { deployment: 'myapp', request: { port: 8081, host: 'myapp.local' } },
  exercise: [
    {
      title: `shorten the HPA's scale-down stabilization window to ${STABILIZATION_WINDOW_SECONDS} s (default 300 s)`,
      run: shortenScaleDownWindow,
    },
    {
      title: 'record the timeline: pod CPU and memory, HPA utilization, desired and ready replicas, events',
      async run(context) {
        startRecorders(context);
      },
    },
    {
      title: `load through the Ingress: ${LOAD.concurrency} connections sending ${LOAD.method} /, at most ${LOAD.durationMs / 1000} s or ${LOAD.maxRequests} requests`,
      // The load runs beside the assertions (scaling happens while it lasts); the scale-down assertion stops it.
      run: startLoad,
    },
  ],
  assertions: [
    nodesReady(1, 3),
    deploymentAvailable('myapp', 'app=myapp'),
    hpaReadsMetrics('myapp-hpa', ['cpu', 'memory']),
    rescaleEvent('myapp-hpa', /New size: \d+; reason: (cpu|memory) resource utilization \(percentage of request\) above target/),
    scaledAbove('myapp', 1),
    podsSpread('app=myapp', 2, 2),
    // The file server idles at 1-2m of its 50m request: 20% is well clear of any load's reading.
    scalesDownAfterLoad('myapp-hpa', 20),
  ],
});
