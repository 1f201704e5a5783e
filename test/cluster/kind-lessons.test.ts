/**
 * Lessons 1-3 on kind, from the forged kind node image: the course's Ingress through Traefik on the
 * control-plane node's mapped port, the HPA on metrics-server, the API server called with kind's
 * certificates; lesson 3's k3s datastore part reported as skipped, not failed. Each run leaves no
 * node container behind.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../../src/util/paths.js';
import { kindClusterLeftovers } from '../support/leftovers.js';

const cli = join(packageRoot(), 'bin', 'kubelab.js');
const MINUTE = 60_000;
let dir: string | undefined;

async function runOnKind(lesson: string, extra: string[] = []): Promise<{ exitCode?: number; stdout: string; xml: string }> {
  dir ??= await mkdtemp(join(tmpdir(), 'kubelab-it-kind-'));
  const junit = join(dir, `${lesson}.xml`);
  const result = await execa(process.execPath, [cli, 'run', lesson, '--provider', 'kind', '--junit', junit, ...extra], { reject: false, env: { CI: 'true' }, all: true });
  console.log(result.all);
  return { exitCode: result.exitCode, stdout: String(result.stdout), xml: await readFile(junit, 'utf8').catch(() => '') };
}

afterAll(async () => {
  await execa(process.execPath, [cli, 'down', '--all', '--provider', 'kind'], { reject: false });
  if (dir) await rm(dir, { recursive: true, force: true });
}, 5 * MINUTE);

describe('lessons 1-3 on real kind clusters', () => {
  test('lesson 1: the Ingress answers through Traefik on the mapped port; the add-ons run', async () => {
    const run = await runOnKind('lesson-1', ['--trace']);
    expect(run.exitCode).toBe(0);
    expect(run.xml).toMatch(/<testsuite name="lesson-1" tests="7" failures="0"/);
    expect(run.stdout).toMatch(/PASS {2}4 nodes Ready \(1 control-plane, 3 agents\)/);
    expect(run.stdout).toMatch(/PASS {2}GET http:\/\/127\.0\.0\.1:8081\/ \(Host: myapp\.local\) answers 200/);
    expect(run.stdout).toMatch(/local-path-provisioner: Running in local-path-storage/);
    expect(run.stdout).toContain('first answer via Ingress');
    expect(await kindClusterLeftovers('yadoc-exposed')).toEqual([]);
  }, 20 * MINUTE);

  test('lesson 2: the HPA reads metrics from metrics-server, scales up under load and back down', async () => {
    const run = await runOnKind('lesson-2', ['--timeout', '300']);
    expect(run.exitCode).toBe(0);
    expect(run.xml).toMatch(/<testsuite name="lesson-2" tests="7" failures="0"/);
    expect(run.stdout).toMatch(/PASS {2}HPA myapp-hpa emits SuccessfulRescale/);
    expect(run.stdout).toMatch(/PASS {2}HPA myapp-hpa scales down as far as its metrics allow once the load stops/);
    expect(await kindClusterLeftovers('yadoc-exposed')).toEqual([]);
  }, 25 * MINUTE);

  test("lesson 3: raw HTTPS with kind's certificates sees the pod; the k3s datastore claims are skipped, saying why", async () => {
    const run = await runOnKind('lesson-3');
    expect(run.exitCode).toBe(0);
    expect(run.xml).toMatch(/<testsuite name="lesson-3" tests="6" failures="0" errors="0" skipped="2"/);
    expect(run.stdout).toMatch(/raw API volume (kube-api-access-\w+), client volume \1/);
    expect(run.stdout).toMatch(/SKIP {2}cluster yadoc-api-exposed keeps its state in SQLite through kine\n\s+observed: skipped on kind: k3s's datastore choice/);
    expect(run.stdout).toMatch(/4 passed, 0 failed, 2 skipped/);
    expect(await kindClusterLeftovers('yadoc-api-exposed')).toEqual([]);
    expect(await kindClusterLeftovers('yadoc-with-etcd')).toEqual([]);
  }, 20 * MINUTE);
});
