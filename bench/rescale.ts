/**
 * From a SuccessfulRescale event to kubelab reporting it. Lesson 2 runs as users run it (`kubelab
 * run lesson-2 --json`) on a cluster made first with `kubelab up lesson-2`; beside it, this process
 * holds a bare watch with the official client on the same events: the earliest any client can know.
 * kubelab's delay is the time its timeline recorded each SuccessfulRescale minus the bare watch's
 * arrival. Goal: under 1 s. The API server's own timestamps (whole seconds) give an upper bound.
 *   npm run bench:rescale [-- --report DIR]   (DIR: keep the run's HTML report)
 */
import { execa } from 'execa';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { KubeConfig, Watch, type CoreV1Event } from '@kubernetes/client-node';
import type { LessonOutcome } from '../src/lab/outcome.js';
import { packageRoot } from '../src/util/paths.js';

const { values } = parseArgs({ options: { report: { type: 'string' } } });
const cli = join(packageRoot(), 'bin', 'kubelab.js');
const kubelab = (args: string[]) => execa(process.execPath, [cli, ...args], { reject: false, all: true, env: { CI: 'true' } });

const up = await kubelab(['up', 'lesson-2']);
if (up.exitCode !== 0) throw new Error(`kubelab up lesson-2 failed:\n${up.all}`);
const arrivals = new Map<string, { at: number; stored: number; message: string }>();
let watchRequest: AbortController | undefined;
try {
  const config = new KubeConfig();
  config.loadFromFile((await kubelab(['kubeconfig', 'lesson-2'])).stdout.trim());
  watchRequest = await new Watch(config).watch(
    '/api/v1/namespaces/hpa-test/events',
    { fieldSelector: 'reason=SuccessfulRescale' },
    (phase: string, event: CoreV1Event) => {
      const key = `${event.metadata?.uid}/${event.count ?? 1}`;
      if ((phase === 'ADDED' || phase === 'MODIFIED') && !arrivals.has(key)) {
        arrivals.set(key, { at: Date.now(), stored: Date.parse(String(event.lastTimestamp ?? event.eventTime)), message: event.message ?? '' });
      }
    },
    () => undefined,
  );
  const run = await kubelab(['run', 'lesson-2', '--json', ...(values.report ? ['--report', values.report] : [])]);
  if (run.exitCode !== 0) throw new Error(`kubelab run lesson-2 exited ${run.exitCode}:\n${run.all}`);
  const outcome = JSON.parse(String(run.stdout)) as LessonOutcome;
  const reported = (outcome.timeline?.events ?? [])
    .filter((e) => e.reason === 'SuccessfulRescale')
    .map((e) => ({ at: outcome.timeline!.startedAt + e.t, message: e.message }));
  console.log(`SuccessfulRescale events: ${arrivals.size} seen by the bare watch, ${reported.length} reported by kubelab`);
  const delays: number[] = [];
  for (const arrival of [...arrivals.values()].sort((a, b) => a.at - b.at)) {
    const report = reported.find((r) => r.message === arrival.message && r.at >= arrival.at - 1000);
    if (!report) continue;
    delays.push(report.at - arrival.at);
    console.log(
      `  "${arrival.message}": kubelab ${report.at - arrival.at} ms after the bare watch; ` +
        `${report.at - arrival.stored} ms after the API server's timestamp (whole seconds: an upper bound)`,
    );
  }
  if (delays.length === 0) throw new Error('no SuccessfulRescale matched between the bare watch and kubelab');
  const worst = Math.max(...delays);
  console.log(`worst delay from the event's arrival to kubelab's report: ${worst} ms (goal: under 1000 ms) ratio to goal ${(worst / 1000).toFixed(3)}x`);
} finally {
  watchRequest?.abort();
  await kubelab(['down', 'lesson-2']);
}
