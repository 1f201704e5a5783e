/**
 * The kube layer and `kubelab verify` against a real API server (forged k3s, control plane only):
 * server-side apply with dry-run first, unknown kinds named with file and line, watch-based waits,
 * and verify failing with exit 1 naming the assertions a wrong cluster breaks.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { FORGED_K3S_IMAGE } from '../../src/cluster/k3d/config.js';
import { InputError, TimeoutError } from '../../src/errors.js';
import { applyManifests } from '../../src/kube/apply.js';
import { connect, type Kube } from '../../src/kube/client.js';
import { loadManifests, parseManifests } from '../../src/kube/manifests.js';
import { waitFor } from '../../src/kube/wait.js';
import { packageRoot } from '../../src/util/paths.js';
import { startApiServer, type ApiServer } from '../support/api-server.js';

let api: ApiServer;
let kube: Kube;
let dir: string;

beforeAll(async () => {
  api = await startApiServer(FORGED_K3S_IMAGE);
  kube = connect({ kubeconfig: api.kubeconfig, context: api.context });
  dir = await mkdtemp(join(tmpdir(), 'kubelab-it-manifests-'));
}, 5 * 60_000);

afterAll(async () => {
  await api?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('server-side apply', () => {
  test("applies lesson 1's manifests as field manager kubelab, and again idempotently", async () => {
    const manifests = await loadManifests(join(packageRoot(), 'manifests', 'lesson-1'));
    const applied = await applyManifests(kube, manifests, 'default');
    expect(applied.map((a) => `${a.manifest.kind}/${a.manifest.name}`).sort()).toEqual(['Deployment/myapp', 'Ingress/myapp-ingress', 'Service/myapp-service']);
    const deployment = await kube.apps.readNamespacedDeployment({ name: 'myapp', namespace: 'default' });
    expect(deployment.metadata?.managedFields?.some((f) => f.manager === 'kubelab' && f.operation === 'Apply')).toBe(true);
    const again = await applyManifests(kube, manifests, 'default');
    expect(again).toHaveLength(3);
    const after = await kube.apps.readNamespacedDeployment({ name: 'myapp', namespace: 'default' });
    expect(after.metadata?.generation).toBe(deployment.metadata?.generation);
  }, 60_000);

  test('an unknown kind or apiVersion is an InputError naming file and line; nothing is applied', async () => {
    const file = join(dir, 'mixed.yaml');
    await writeFile(file, [
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: before-the-bad-one\ndata: {a: "1"}',
      'apiVersion: kubelab.dev/v1\nkind: Frobnicator\nmetadata:\n  name: nope',
    ].join('\n---\n'));
    const manifests = parseManifests(await readFile(file, 'utf8'), file);
    const failure = applyManifests(kube, manifests, 'default');
    await expect(failure).rejects.toBeInstanceOf(InputError);
    await expect(applyManifests(kube, manifests, 'default')).rejects.toThrow(/mixed\.yaml:7: apiVersion \"kubelab\.dev\/v1\" is not served by this cluster \(kind Frobnicator\)/);
    await expect(kube.core.readNamespacedConfigMap({ name: 'before-the-bad-one', namespace: 'default' })).rejects.toMatchObject({ code: 404 });

    const badVersion = parseManifests('apiVersion: apps/v9\nkind: Deployment\nmetadata:\n  name: x\n', join(dir, 'v9.yaml'));
    await expect(applyManifests(kube, badVersion, 'default')).rejects.toThrow(/v9\.yaml:1: .*apps\/v9/);
  }, 60_000);

  test('an object the API server rejects fails the dry run before anything is applied', async () => {
    const file = join(dir, 'invalid.yaml');
    const text = [
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: would-be-applied\ndata: {a: "1"}',
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: bad-port\nspec:\n  ports: [{port: 99999}]',
    ].join('\n---\n');
    const manifests = parseManifests(text, file);
    await expect(applyManifests(kube, manifests, 'default')).rejects.toThrow(/invalid\.yaml:\d+: Service bad-port rejected by the API server/);
    await expect(kube.core.readNamespacedConfigMap({ name: 'would-be-applied', namespace: 'default' })).rejects.toMatchObject({ code: 404 });
  }, 60_000);
});

describe('waitFor', () => {
  test('resolves on the watch event that satisfies it', async () => {
    // What `until` saw after each change: the list first, then only what the watch delivers.
    const seen: string[] = [];
    let watching!: () => void;
    const established = new Promise<void>((resolve) => (watching = resolve));
    const waiting = waitFor<V1ConfigMap, string>(kube, {
      description: 'configmap signal has ready=yes',
      target: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', fieldSelector: 'metadata.name=signal' },
      until: ([cm]) => {
        seen.push(cm?.data?.ready ?? 'absent');
        return cm?.data?.ready === 'yes' ? cm.metadata!.resourceVersion : undefined;
      },
      timeoutMs: 30_000,
      onWatching: () => watching(),
    });
    // The list is done and the watch is open: the create and the patch can only arrive as watch events.
    await established;
    await kube.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'signal' }, data: { ready: 'no' } } });
    await kube.core.patchNamespacedConfigMap(
      { name: 'signal', namespace: 'default', body: [{ op: 'replace', path: '/data/ready', value: 'yes' }] },
    );
    const version = await waiting;
    const current = await kube.core.readNamespacedConfigMap({ name: 'signal', namespace: 'default' });
    expect(version).toBe(current.metadata?.resourceVersion);
    expect(seen).toEqual(['absent', 'no', 'yes']);
  }, 60_000);

  test('times out with the diagnostic', async () => {
    const waiting = waitFor(kube, {
      description: 'a configmap that never appears',
      target: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', fieldSelector: 'metadata.name=never' },
      until: (objects) => (objects.length > 0 ? true : undefined),
      timeoutMs: 1500,
      diagnose: async () => 'diagnostic: nothing named never',
    });
    await expect(waiting).rejects.toBeInstanceOf(TimeoutError);
    await expect(waiting).rejects.toMatchObject({ diagnostic: 'diagnostic: nothing named never' });
  }, 30_000);
});

describe('kubelab verify on a cluster that is wrong', () => {
  test('exits 1 and names each assertion that fails; the JUnit report carries the evidence', async () => {
    const junit = join(dir, 'verify.xml');
    const result = await execa(
      process.execPath,
      [join(packageRoot(), 'bin', 'kubelab.js'), 'verify', 'lesson-1', '--kubeconfig', api.kubeconfig, '--context', api.context, '--timeout', '3', '--junit', junit],
      { reject: false, env: { CI: 'true' } },
    );
    expect(result.stderr).not.toContain('internal error');
    expect(result.exitCode).toBe(1);
    // No nodes at all (control plane only): every one of the lesson's seven claims fails, each by name.
    expect(result.stdout).toContain('FAIL  4 nodes Ready (1 control-plane, 3 agents)\n        observed: 0 nodes, Ready: 0 control-plane, 0 agents\n');
    expect(result.stdout).toContain('FAIL  Deployment myapp is available\n');
    expect(result.stdout).toMatch(/^0 passed, 7 failed \(\d+\.\ds\)$/m);
    // The progress shows the group failed, not ✔ above seven ✖ (listr writes failures to stderr).
    expect(result.stderr).toMatch(/^✖ verify 7 assertions \[FAILED: 7 of 7 assertions failed\]$/m);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(/<testsuite [^>]*tests="7"/);
    expect(xml).toMatch(/name="[^"]*nodes Ready[^"]*"[^>]*>\s*<failure message="expected [^"]*; observed [^"]+"/);
  }, 3 * 60_000);
});
