/**
 * The CLI's cluster commands through the built CLI on a real k3d cluster (lesson 1's): `up` makes
 * the cluster and imports the lesson's image but applies nothing; `list` shows it running; `run
 * --manifests DIR --json` reuses it, applies DIR's manifests instead of the lesson's and reports in
 * JSON; `down --all` deletes it, leaving nothing behind, and `list` shows it absent.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../../src/util/paths.js';

const CLUSTER = 'yadoc-exposed';
const cli = join(packageRoot(), 'bin', 'kubelab.js');
const MINUTE = 60_000;
let dir: string;
let kubeconfig: string;

function kubelab(args: string[]) {
  return execa(process.execPath, [cli, ...args], { reject: false, env: { CI: 'true' }, all: true });
}

async function kubectl(args: string[]): Promise<string> {
  const result = await execa('kubectl', ['--kubeconfig', kubeconfig, ...args], { reject: false, all: true });
  if (result.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.all}`);
  return result.stdout;
}

async function clusterContainers(): Promise<string[]> {
  const { stdout } = await execa('docker', ['ps', '-a', '--filter', `label=k3d.cluster=${CLUSTER}`, '--format', '{{.Names}}']);
  return stdout.split('\n').filter(Boolean).sort();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubelab-it-cli-'));
});

afterAll(async () => {
  await kubelab(['down', 'lesson-1']);
  if (dir) await rm(dir, { recursive: true, force: true });
}, 5 * MINUTE);

describe('kubelab up, list, run --manifests --json, down --all', () => {
  test('up: the cluster with the lesson image in every node, nothing applied', async () => {
    const result = await kubelab(['up', 'lesson-1']);
    console.log(result.all);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`cluster ${CLUSTER} is up\n`);
    kubeconfig = /kubeconfig: (\S+)/.exec(result.stdout)![1]!;
    expect(existsSync(kubeconfig)).toBe(true);
    expect((await kubectl(['get', 'nodes', '--no-headers', '-o', 'name'])).split('\n')).toHaveLength(4);
    expect(await kubectl(['get', 'deployments', '--namespace', 'default', '-o', 'name'])).toBe('');
    const nodes = (await clusterContainers()).filter((name) => /-(server|agent)-\d+$/.test(name));
    expect(nodes).toHaveLength(4);
    for (const node of nodes) {
      const images = await execa('docker', ['exec', node, 'ctr', '--namespace', 'k8s.io', 'images', 'ls', '--quiet']);
      expect(images.stdout.split('\n')).toContain('docker.io/library/myapp:latest');
    }
  }, 30 * MINUTE);

  test("list: lesson 1's cluster running with 1 server and 3 agents, the others absent", async () => {
    const result = await kubelab(['list']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^lesson-1\s+yadoc-exposed\s+k3d\s+1\+3\s+running$/m);
    expect(result.stdout).toMatch(/^lesson-3\s+yadoc-api-exposed\s+k3d\s+1\+3\s+absent$/m);
  });

  test("run --manifests DIR --json: reuses the cluster, applies DIR's objects, prints the report as JSON", async () => {
    const manifests = join(dir, 'manifests');
    await cp(join(packageRoot(), 'manifests', 'lesson-1'), manifests, { recursive: true });
    // A mark only these manifests carry: the Deployment that runs must be this one.
    const deployment = join(manifests, 'deployment.yaml');
    await writeFile(deployment, (await readFile(deployment, 'utf8')).replace(/^metadata:\n/m, 'metadata:\n  annotations:\n    kubelab.test/source: manifests-dir\n'));
    const before = await clusterContainers();
    const result = await kubelab(['run', 'lesson-1', '--manifests', manifests, '--json']);
    if (result.exitCode !== 0) console.log(result.all);
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout) as {
      lesson: string; cluster: string; passed: boolean; results: { name: string; pass: boolean }[]; kubeconfig: string; phases: { name: string; ms: number }[];
    };
    expect(report).toMatchObject({ lesson: 'lesson-1', cluster: CLUSTER, passed: true, kubeconfig });
    // Where the time went, each phase once (lesson 1 has no exercise steps; provision and images run side by side).
    expect(report.phases.map((p) => p.name).sort()).toEqual(['apply', 'cleanup', 'images', 'provision', 'push', 'tools', 'verify']);
    expect(report.results).toHaveLength(7);
    expect(report.results.filter((r) => !r.pass)).toEqual([]);
    expect(await kubectl(['get', 'deployment', 'myapp', '-o', 'jsonpath={.metadata.annotations.kubelab\\.test/source}'])).toBe('manifests-dir');
    // A reused cluster is not the run's to delete.
    expect(await clusterContainers()).toEqual(before);
  }, 15 * MINUTE);

  test('down --all: deletes the cluster and its kubeconfig; list shows it absent', async () => {
    const result = await kubelab(['down', '--all']);
    console.log(result.all);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^deleted k3d cluster ${CLUSTER}$`, 'm'));
    expect(await clusterContainers()).toEqual([]);
    expect(existsSync(kubeconfig)).toBe(false);
    expect((await kubelab(['list'])).stdout).toMatch(/^lesson-1\s+yadoc-exposed\s+k3d\s+1\+3\s+absent$/m);
  }, 10 * MINUTE);
});
