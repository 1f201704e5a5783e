/**
 * The course's own cluster from forged images, end to end: `kubelab run lesson-1 --keep --trace` on
 * a real k3d cluster (1 server, 3 agents, 8081:80@loadbalancer), then what the forge must give it
 * (metrics answer), then proof that verify can fail: each break of the running lesson makes
 * `kubelab verify` exit 1 naming the assertion, each repair makes it exit 0 again; then `kubelab
 * down` leaving no container, volume or network behind, and the user's kubeconfig as it was.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { requestUntil } from '../../src/load/request.js';
import { packageRoot } from '../../src/util/paths.js';
import { clusterLeftovers } from '../support/leftovers.js';

const CLUSTER = 'yadoc-exposed';
const cli = join(packageRoot(), 'bin', 'kubelab.js');
const MINUTE = 60_000;
let dir: string;
// The user's own kubeconfig, as $KUBECONFIG names it: kubelab and the tools it runs must leave it byte for byte.
let userHome: string;
const USER_KUBECONFIG = '# the user\'s own, comments and all\napiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\npreferences: {}\n';
const userKubeconfig = () => join(userHome, 'config');

function kubelab(args: string[]) {
  return execa(process.execPath, [cli, ...args], { reject: false, env: { CI: 'true', KUBECONFIG: userKubeconfig() }, all: true });
}

beforeAll(async () => {
  userHome = await mkdtemp(join(tmpdir(), 'kubelab-it-user-kube-'));
  await writeFile(userKubeconfig(), USER_KUBECONFIG);
});

afterAll(async () => {
  await kubelab(['down', 'lesson-1']);
  if (dir) await rm(dir, { recursive: true, force: true });
  await rm(userHome, { recursive: true, force: true });
}, 5 * MINUTE);

describe('lesson 1 on a real k3d cluster from forged images', () => {
  test('run: every assertion passes', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubelab-it-lesson1-'));
    const junit = join(dir, 'lesson-1.xml');
    // Imported into every node, the fallback path (the registry path is registry-images.test.ts's).
    const result = await kubelab(['run', 'lesson-1', '--images-via', 'import', '--keep', '--trace', '--junit', junit, '--report', dir]);
    console.log(result.all);
    expect(result.exitCode).toBe(0);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(/<testsuite name="lesson-1" tests="7" failures="0"/);
    expect(result.stdout).toMatch(/PASS {2}GET http:\/\/127\.0\.0\.1:8081\/ \(Host: myapp\.local\) answers 200/);
    // The trace: every hop from apply to the first answer via Ingress was watched.
    for (const hop of ['stored', 'ReplicaSet created', 'Pod created', 'Scheduled', 'Started', 'Ready', 'endpoint added', 'first answer via Ingress']) {
      expect(result.stdout).toContain(hop);
    }
    expect(result.stdout).not.toMatch(/never happened|missing/i);
    const html = await readFile(join(dir, 'lesson-1.html'), 'utf8');
    expect(html).toContain('first answer via Ingress');
  }, 30 * MINUTE);

  test("the app image is in every node's containerd and its archive is gone from the shared volume", async () => {
    const nodes = (await execa('docker', ['ps', '--filter', `label=k3d.cluster=${CLUSTER}`, '--format', '{{.Names}}'])).stdout
      .split('\n')
      .filter((name) => /-(server|agent)-\d+$/.test(name));
    expect(nodes).toHaveLength(4);
    for (const node of nodes) {
      const images = await execa('docker', ['exec', node, 'ctr', '--namespace', 'k8s.io', 'images', 'ls', '--quiet']);
      expect(images.stdout.split('\n')).toContain('docker.io/library/myapp:latest');
    }
    const shared = await execa('docker', ['exec', nodes[0]!, 'ls', '-A', '/k3d/images']);
    expect(shared.stdout).not.toMatch(/kubelab-images-/);
  });

  test('the forged add-ons serve metrics: kubectl top nodes answers for 4 nodes', async () => {
    const kubeconfig = (await kubelab(['kubeconfig', 'lesson-1'])).stdout.trim();
    expect(existsSync(kubeconfig)).toBe(true);
    // metrics-server needs one scrape (15 s resolution) before it answers; kubectl top is the check.
    const deadline = Date.now() + 3 * MINUTE;
    let top = await execa('kubectl', ['--kubeconfig', kubeconfig, 'top', 'nodes', '--no-headers'], { reject: false });
    while (top.exitCode !== 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5000));
      top = await execa('kubectl', ['--kubeconfig', kubeconfig, 'top', 'nodes', '--no-headers'], { reject: false });
    }
    console.log(top.stdout || top.stderr);
    expect(top.exitCode).toBe(0);
    expect(top.stdout.trim().split('\n')).toHaveLength(4);
  }, 5 * MINUTE);

  describe('verify fails on a broken lesson, naming the assertion, and passes once repaired', () => {
    const kubectl = async (args: string[]) => {
      const kubeconfig = (await kubelab(['kubeconfig', 'lesson-1'])).stdout.trim();
      const result = await execa('kubectl', ['--kubeconfig', kubeconfig, ...args], { reject: false, all: true });
      expect(result.exitCode).toBe(0);
    };
    const manifest = (file: string) => join(packageRoot(), 'manifests', 'lesson-1', file);
    const breaks = [
      {
        what: 'a wrong targetPort',
        break: ['patch', 'service', 'myapp-service', '--type=json', '-p', '[{"op":"replace","path":"/spec/ports/0/targetPort","value":5001}]'],
        repair: ['apply', '-f', manifest('service.yaml')],
        failing: 'Service myapp-service has a ready endpoint on port 5000',
        // The EndpointSlice controller copies the new port a moment after the patch: a verify before
        // that rightly passes.
        inEffect: () => kubectl(['wait', 'endpointslice', '-l', 'kubernetes.io/service-name=myapp-service', '--for=jsonpath={.ports[0].port}=5001', '--timeout=60s']),
      },
      {
        what: 'the Deployment scaled to 0',
        break: ['scale', 'deployment', 'myapp', '--replicas=0'],
        repair: ['scale', 'deployment', 'myapp', '--replicas=1'],
        failing: 'Deployment myapp is available',
      },
      {
        what: 'an Ingress for another Host',
        break: ['patch', 'ingress', 'myapp-ingress', '--type=json', '-p', '[{"op":"replace","path":"/spec/rules/0/host","value":"other.local"}]'],
        repair: ['apply', '-f', manifest('ingress.yaml')],
        failing: 'GET http://127.0.0.1:8081/ (Host: myapp.local) answers 200',
        // Traefik applies a changed Ingress after its provider throttle (2 s by default): until then
        // the old route still answers, and a verify at that moment rightly passes.
        inEffect: async () => {
          const routed = await requestUntil({ url: 'http://127.0.0.1:8081/', host: 'myapp.local', accept: (answer) => answer.status === 404, deadline: Date.now() + 60_000, retryMs: 250 });
          expect(routed.answer?.status).toBe(404);
        },
      },
    ];
    test.each(breaks)('$what', async ({ break: breakArgs, repair, failing, inEffect }) => {
      await kubectl(breakArgs);
      await inEffect?.();
      const broken = await kubelab(['verify', 'lesson-1', '--timeout', '20']);
      console.log(broken.all);
      expect(broken.exitCode).toBe(1);
      expect(broken.stdout).toContain(`FAIL  ${failing}`);
      await kubectl(repair);
      const repaired = await kubelab(['verify', 'lesson-1', '--timeout', '120']);
      if (repaired.exitCode !== 0) console.log(repaired.all);
      expect(repaired.exitCode).toBe(0);
    }, 8 * MINUTE);
  });

  test('down removes every container, volume and network of the cluster, and its kubeconfig', async () => {
    const kubeconfig = (await kubelab(['kubeconfig', 'lesson-1'])).stdout.trim();
    const result = await kubelab(['down', 'lesson-1']);
    expect(result.exitCode).toBe(0);
    expect(await clusterLeftovers(CLUSTER)).toEqual([]);
    expect(existsSync(kubeconfig)).toBe(false);
    // k3d's own delete rewrites the default kubeconfig unless pointed elsewhere.
    expect(await readFile(userKubeconfig(), 'utf8')).toBe(USER_KUBECONFIG);
  }, 5 * MINUTE);
});
