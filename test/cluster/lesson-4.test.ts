/**
 * Lesson 4 on a real kind cluster from the forged node image: `kubelab run lesson-4 --keep --trace`
 * (the control plane as static pods, their flags, etcd by exec, the kubelet's /configz, kube-proxy,
 * CoreDNS, leases), then the course's break and repair: the scheduler's manifest moved out of
 * /etc/kubernetes/manifests leaves a new pod Pending and verify failing on the scheduler; moved back,
 * the pod is scheduled and verify passes. Then `kubelab down` leaves nothing of the cluster.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../../src/util/paths.js';
import { danglingVolumes } from '../support/leftovers.js';

const CLUSTER = 'k8s-master-machine';
const CONTROL_PLANE = `${CLUSTER}-control-plane`;
const cli = join(packageRoot(), 'bin', 'kubelab.js');
const MINUTE = 60_000;
let dir: string;
let volumesBefore: string[] = [];

function kubelab(args: string[]) {
  return execa(process.execPath, [cli, ...args], { reject: false, env: { CI: 'true' }, all: true });
}

async function kubectl(args: string[]) {
  const kubeconfig = (await kubelab(['kubeconfig', 'lesson-4'])).stdout.trim();
  const result = await execa('kubectl', ['--kubeconfig', kubeconfig, ...args], { reject: false, all: true });
  if (result.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.all}`);
  return result.stdout;
}

async function leftovers(): Promise<string[]> {
  const filter = ['--filter', `label=io.x-k8s.kind.cluster=${CLUSTER}`];
  const [containers, volumes, networks] = await Promise.all([
    execa('docker', ['ps', '-a', ...filter, '--format', 'container {{.Names}}']),
    danglingVolumes(),
    execa('docker', ['network', 'ls', '--filter', 'name=^kubelab-kind$', '--format', 'network {{.Name}}']),
  ]);
  // Another test may leave an anonymous volume dangling meanwhile: only new ones are this cluster's.
  const newVolumes = volumes.filter((v) => !volumesBefore.includes(v)).map((v) => `volume ${v}`);
  return [...[containers.stdout, networks.stdout].flatMap((out) => out.split('\n').filter(Boolean)), ...newVolumes];
}

afterAll(async () => {
  await kubelab(['down', 'lesson-4']);
  if (dir) await rm(dir, { recursive: true, force: true });
}, 5 * MINUTE);

describe('lesson 4 on a real kind cluster from the forged node image', () => {
  test('run: every assertion passes, with the apply traced hop by hop', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubelab-it-lesson4-'));
    volumesBefore = await danglingVolumes();
    const junit = join(dir, 'lesson-4.xml');
    const result = await kubelab(['run', 'lesson-4', '--keep', '--trace', '--junit', junit]);
    console.log(result.all);
    expect(result.exitCode).toBe(0);
    expect(await readFile(junit, 'utf8')).toMatch(/<testsuite name="lesson-4" tests="13" failures="0"/);
    expect(result.stdout).toMatch(/PASS {2}etcd --version and etcdctl version, run in the etcd pod, report etcd 3\.5\.x\n\s+observed: in etcd-k8s-master-machine-control-plane: etcd Version 3\.5\.16, etcdctl version 3\.5\.16/);
    expect(result.stdout).toMatch(/kube-scheduler-k8s-master-machine-control-plane: Running, registry\.k8s\.io\/kube-scheduler:v1\.32\.9, mirror pod/);
    for (const hop of ['stored', 'ReplicaSet created', 'Pod created', 'Scheduled', 'Started', 'Ready', 'endpoint added']) {
      expect(result.stdout).toContain(hop);
    }
    // No Ingress in this lesson: the trace expects no answer through one.
    expect(result.stdout).not.toMatch(/never happened|missing/i);
  }, 40 * MINUTE);

  test("the scheduler's manifest moved out: a new pod stays Pending and verify fails on the scheduler; moved back, both recover", async () => {
    await execa('docker', ['exec', CONTROL_PLANE, 'mv', '/etc/kubernetes/manifests/kube-scheduler.yaml', '/etc/kubernetes/kube-scheduler.yaml']);
    try {
      await kubectl(['wait', '--for=delete', `pod/kube-scheduler-${CONTROL_PLANE}`, '-n', 'kube-system', '--timeout=120s']);
      await kubectl(['scale', 'deployment', 'web', '--replicas=3']);
      // The ReplicaSet makes the two new pods a moment after the scale: a verify before that sees only bound ones.
      await kubectl(['wait', 'replicaset', '-l', 'app=web', '--for=jsonpath={.status.replicas}=3', '--timeout=60s']);
      const broken = await kubelab(['verify', 'lesson-4', '--timeout', '20']);
      console.log(broken.all);
      expect(broken.exitCode).toBe(1);
      expect(broken.stdout).toMatch(/FAIL {2}etcd, kube-apiserver, kube-controller-manager and kube-scheduler run as static pods.*\n\s+observed: kube-scheduler: no pod/);
      expect(broken.stdout).toMatch(/FAIL {2}pods app=web are bound to nodes/);
      const pending = await kubectl(['get', 'pods', '-l', 'app=web', '--field-selector=status.phase=Pending', '-o', 'jsonpath={.items[*].spec.nodeName}']);
      expect(pending.trim()).toBe('');
      expect(await kubectl(['get', 'pods', '-l', 'app=web', '--field-selector=status.phase=Pending', '-o', 'name'])).toMatch(/pod\/web-/);
    } finally {
      await execa('docker', ['exec', CONTROL_PLANE, 'mv', '/etc/kubernetes/kube-scheduler.yaml', '/etc/kubernetes/manifests/kube-scheduler.yaml']);
    }
    const repaired = await kubelab(['verify', 'lesson-4', '--timeout', '180']);
    if (repaired.exitCode !== 0) console.log(repaired.all);
    expect(repaired.exitCode).toBe(0);
    expect(repaired.stdout).toMatch(/pods app=web are bound to nodes\n\s+observed: (web-\S+ -> k8s-master-machine-\S+(, )?){3}/);
  }, 10 * MINUTE);

  test('down removes every node container, volume and the kind network of the cluster, and its kubeconfig', async () => {
    const kubeconfig = (await kubelab(['kubeconfig', 'lesson-4'])).stdout.trim();
    const result = await kubelab(['down', 'lesson-4']);
    expect(result.exitCode).toBe(0);
    expect(await leftovers()).toEqual([]);
    expect(existsSync(kubeconfig)).toBe(false);
  }, 5 * MINUTE);
});
