import { hpaReadsMetrics, rescaleEvent, scaledAbove } from '../src/assert/autoscaling.js';
import { deploymentAvailable, nodesReady } from '../src/assert/workloads.js';
import { defineLesson } from '../src/lab/types.js';
import lesson1 from './lesson-1.js';
import { formatLoadSummary, runLoad } from '../src/load/generator.js';

/** The load lasts long enough for metrics-server (15 s resolution) and the HPA (15 s sync) to react. */
const LOAD = { concurrency: 4, durationMs: 180_000, maxRequests: 20_000 };

/**
 * Lesson 2, Horizontal Pod Autoscaler: the file-server app (a ~10 MB test.txt per request) with
 * small requests and limits, an HPA on cpu and memory at 60%, and load through the Ingress.
 */
export default defineLesson({
  id: 'lesson-2',
  title: 'Horizontal Pod Autoscaler: scaling a file server on cpu and memory',
  summary:
    'kubelab downloads test.txt through the Ingress at 127.0.0.1:8081 (Host: myapp.local) until the HPA ' +
    'reads utilization above 60% from metrics-server, emits SuccessfulRescale and the Deployment grows above one replica.',
  // The course: "same cluster (delete lesson 1's first)".
  cluster: lesson1.cluster,
  images: [{ app: 'file-server', tag: 'myapp:hpa-test' }],
  manifests: 'lesson-2',
  namespace: 'hpa-test',
  exercise: [
    {
      title: `load through the Ingress: ${LOAD.concurrency} connections, at most ${LOAD.durationMs / 1000} s or ${LOAD.maxRequests} requests`,
      async run(context) {
        // The load runs beside the assertions (scaling happens while it lasts) and stops at cleanup.
        const stop = new AbortController();
        const load = runLoad({
          url: 'http://127.0.0.1:8081/',
          host: 'myapp.local',
          ...LOAD,
          signal: AbortSignal.any([context.signal, stop.signal]),
          progressIntervalMs: 5000,
          onProgress: (sample, totals) =>
            context.log(`load: ${totals.completed} responses, ${sample.rps.toFixed(1)} req/s, p99 ${sample.p99Ms.toFixed(0)} ms`),
        });
        context.cleanup.register('stop the load', async () => {
          stop.abort();
          await load.catch(() => undefined);
        });
        load.then((result) => context.log(formatLoadSummary(result))).catch(() => undefined);
        context.evidence.set('load', load);
      },
    },
  ],
  assertions: [
    nodesReady(1, 3),
    deploymentAvailable('myapp', 'app=myapp'),
    hpaReadsMetrics('myapp-hpa', ['cpu', 'memory']),
    rescaleEvent('myapp-hpa', /New size: \d+; reason: (cpu|memory) resource utilization \(percentage of request\) above target/),
    scaledAbove('myapp', 1),
  ],
});
