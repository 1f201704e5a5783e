/**
 * Lessons 2 and 3 end to end on real k3d clusters from forged images: the HPA scales the file
 * server under kubelab's own load through the Ingress; the API server answers a raw HTTPS call made
 * with certificates extracted from the kubeconfig, and refuses one without them.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../../src/util/paths.js';

const cli = join(packageRoot(), 'bin', 'kubelab.js');
const MINUTE = 60_000;
let dir: string | undefined;

async function runLesson(lesson: string, extra: string[] = []): Promise<{ exitCode?: number; stdout: string; xml: string }> {
  dir ??= await mkdtemp(join(tmpdir(), 'kubelab-it-lessons-'));
  const junit = join(dir, `${lesson}.xml`);
  const result = await execa(process.execPath, [cli, 'run', lesson, '--junit', junit, ...extra], { reject: false, env: { CI: 'true' }, all: true });
  console.log(result.all);
  return { exitCode: result.exitCode, stdout: String(result.stdout), xml: await readFile(junit, 'utf8').catch(() => '') };
}

async function clusterLeftovers(cluster: string): Promise<string[]> {
  const { stdout } = await execa('docker', ['ps', '-a', '--filter', `label=k3d.cluster=${cluster}`, '--format', '{{.Names}}']);
  return stdout.split('\n').filter(Boolean);
}

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('lessons on real k3d clusters', () => {
  test('lesson 2: under load the HPA reads metrics, rescales and the Deployment grows', async () => {
    const run = await runLesson('lesson-2', ['--timeout', '300']);
    expect(run.exitCode).toBe(0);
    expect(run.xml).toMatch(/<testsuite name="lesson-2" tests="5" failures="0"/);
    expect(run.stdout).toMatch(/PASS {2}HPA myapp-hpa emits SuccessfulRescale\n\s+observed: New size: \d+; reason: (cpu|memory) resource utilization \(percentage of request\) above target/);
    expect(await clusterLeftovers('yadoc-exposed')).toEqual([]);
  }, 20 * MINUTE);

  test('lesson 3: raw HTTPS with the extracted certificates sees the pod; without them, refused', async () => {
    const run = await runLesson('lesson-3');
    expect(run.exitCode).toBe(0);
    expect(run.xml).toMatch(/<testsuite name="lesson-3" tests="4" failures="0"/);
    expect(run.stdout).toMatch(/raw API volume (kube-api-access-\w+), client volume \1/);
    expect(run.stdout).toMatch(/without a client certificate is refused\n\s+observed: HTTP (401|403)/);
    expect(await clusterLeftovers('yadoc-api-exposed')).toEqual([]);
  }, 20 * MINUTE);
});
