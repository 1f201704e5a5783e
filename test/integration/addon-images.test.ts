/**
 * The k3s add-on images built from Go module source (CoreDNS, metrics-server,
 * local-path-provisioner, Traefik), against the real dockerd: each is tagged exactly as k3s
 * expects, runs offline (`--pull never`, no network), and CoreDNS and Traefik do their job on
 * loopback: a DNS answer over UDP, an HTTP request proxied by Host header to a local container.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import {
  ADDON_IMAGES,
  ADDON_IMAGE_TAGS,
  COREDNS_IMAGE,
  LOCAL_PATH_IMAGE,
  METRICS_SERVER_IMAGE,
  TRAEFIK_IMAGE,
  TRAEFIK_MANIFEST,
  addonImageStatus,
  corednsAddon,
  ensureAddonImage,
  localPathAddon,
  metricsServerAddon,
  traefikAddon,
  type AddonImage,
} from '../../src/forge/addons.js';
import { MANAGED_LABEL, publishedPort, removeContainer, waitForLog } from '../../src/docker/engine.js';
import { ensureNginxBase } from '../../src/images/base.js';
import { FORGED_K3S_IMAGE } from '../../src/cluster/k3d/config.js';
import { forgeImages } from '../../src/forge/catalog.js';

const MINUTE = 60_000;
const RUN = `kubelab-it-addons-${process.pid}`;
const containers: string[] = [];
/** Tags of the images forcedBuild made: removed afterwards with their recipe tags. */
const builtForTest: string[] = [];
let network: string | undefined;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubelab-addons-'));
});

afterAll(async () => {
  for (const name of containers) await removeContainer(name);
  if (network) await execa('docker', ['network', 'rm', network], { reject: false });
  for (const tag of builtForTest) {
    const id = (await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', tag], { reject: false })).stdout.trim();
    if (id) await execa('docker', ['image', 'rm', '--force', id], { reject: false });
  }
  await rm(dir, { recursive: true, force: true });
}, 2 * MINUTE); // a k3s node takes a while to stop

/** `docker run -d` with our label, never pulling: the image must be the locally built one. */
async function start(name: string, args: string[]): Promise<string> {
  const full = `${RUN}-${name}`;
  containers.push(full);
  await execa('docker', ['run', '--detach', '--pull', 'never', '--name', full, '--label', `${MANAGED_LABEL}=true`, ...args]);
  return full;
}

/**
 * The add-on built afresh (forced) under test-only names, so that what the test runs is what this run
 * built while the images k3s runs stay as they are; then found current and skipped.
 */
async function forcedBuild(addon: AddonImage): Promise<AddonImage> {
  const underTest: AddonImage = { ...addon, name: `it-${addon.name}`, tag: `kubelab-it/${addon.name}:${process.pid}` };
  builtForTest.push(underTest.tag);
  const result = await ensureAddonImage(underTest, { force: true });
  console.log(`${addon.name}: built in ${(result.durationMs / 1000).toFixed(1)} s, ${((result.sizeBytes ?? 0) / 1e6).toFixed(1)} MB`);
  expect(result.skipped).toBe(false);
  expect(result.location).toBe(underTest.tag);
  expect((await addonImageStatus(underTest)).present).toBe(true);
  expect((await ensureAddonImage(underTest)).skipped).toBe(true);
  return underTest;
}

/** The binary in its image, offline, prints its version (or help) and exits 0. */
async function versionOf(addon: AddonImage): Promise<string> {
  const result = await execa('docker', ['run', '--rm', '--pull', 'never', '--network', 'none', addon.tag, ...addon.versionArgs], { all: true, reject: false });
  expect(result.exitCode).toBe(0);
  return String(result.all);
}

describe('tags', () => {
  test('are exactly those of k3s v1.32.0+k3s1 scripts/airgap/image-list.txt (Traefik: kubelab-deployed)', () => {
    expect(ADDON_IMAGES.map((a) => a.tag)).toEqual([LOCAL_PATH_IMAGE, METRICS_SERVER_IMAGE, COREDNS_IMAGE, TRAEFIK_IMAGE]);
    expect(COREDNS_IMAGE).toBe('rancher/mirrored-coredns-coredns:1.12.0');
    expect(METRICS_SERVER_IMAGE).toBe('rancher/mirrored-metrics-server:v0.7.2');
    expect(LOCAL_PATH_IMAGE).toBe('rancher/local-path-provisioner:v0.0.30');
  });
});

describe('local-path-provisioner', () => {
  test('is built, tagged, and prints its version', async () => {
    const built = await forcedBuild(localPathAddon);
    expect(await versionOf(built)).toMatch(/v0\.0\.30/);
    // k3s runs `local-path-provisioner start ...`: found through PATH, as in the alpine original.
    const { stdout } = await execa('docker', ['image', 'inspect', '--format', '{{json .Config.Cmd}} {{json .Config.Env}}', built.tag]);
    expect(stdout).toMatch(/\["local-path-provisioner"\]/);
    expect(stdout).toMatch(/PATH=[^"]*\/usr\/bin/);
  }, 30 * MINUTE);
});

describe('metrics-server', () => {
  test('is built, tagged, runs as 65534 and prints its version', async () => {
    const built = await forcedBuild(metricsServerAddon);
    expect(await versionOf(built)).toMatch(/v0\.7\.2/);
    const { stdout } = await execa('docker', ['image', 'inspect', '--format', '{{.Config.User}} {{json .Config.Entrypoint}}', built.tag]);
    expect(stdout).toBe('65534 ["/metrics-server"]');
  }, 30 * MINUTE);
});

/** A DNS A query for `name`, answered addresses out (RFC 1035 wire format, no library). */
async function resolveA(port: number, name: string): Promise<string[]> {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const query = Buffer.concat([Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
  const socket = createSocket('udp4');
  try {
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no DNS answer from 127.0.0.1:${port}`)), 5000);
      socket.once('message', (msg) => (clearTimeout(timer), resolve(msg)));
      socket.once('error', (e) => (clearTimeout(timer), reject(e)));
      socket.send(query, port, '127.0.0.1');
    });
    expect(reply.readUInt16BE(0)).toBe(0x1234);
    expect(reply.readUInt8(3) & 0x0f).toBe(0); // RCODE NOERROR
    const answers = reply.readUInt16BE(6);
    let offset = query.length; // the question is echoed
    const found: string[] = [];
    for (let i = 0; i < answers; i++) {
      offset += (reply.readUInt8(offset) & 0xc0) === 0xc0 ? 2 : name.length + 2; // compressed pointer or full name
      const type = reply.readUInt16BE(offset);
      const length = reply.readUInt16BE(offset + 8);
      if (type === 1) found.push([...reply.subarray(offset + 10, offset + 14)].join('.'));
      offset += 10 + length;
    }
    return found;
  } finally {
    socket.close();
  }
}

describe('coredns', () => {
  test('is built, tagged, and answers a DNS query from a Corefile on a loopback port', async () => {
    const built = await forcedBuild(corednsAddon);
    expect(await versionOf(built)).toMatch(/CoreDNS-1\.12\.0/);
    const conf = join(dir, 'coredns');
    await execa('mkdir', ['-p', conf]);
    await writeFile(join(conf, 'Corefile'), '.:53 {\n  hosts {\n    10.43.0.42 web.kubelab.test\n  }\n  errors\n  log\n}\n');
    const name = await start('coredns', ['--publish', '127.0.0.1::53/udp', '--volume', `${conf}:/etc/coredns:ro`, built.tag, '-conf', '/etc/coredns/Corefile']);
    await waitForLog(name, /CoreDNS-1\.12\.0/, { timeoutMs: 30_000 });
    const port = await publishedPort(name, 53, 'udp');
    expect(await resolveA(port, 'web.kubelab.test')).toEqual(['10.43.0.42']);
  }, 30 * MINUTE);
});

/** GET / on loopback with a Host header (fetch would not send ours: Host is a forbidden header). */
function get(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { Host: host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('traefik', () => {
  test('is built, tagged, and proxies by Host header to a local container', async () => {
    const built = await forcedBuild(traefikAddon);
    expect(await versionOf(built)).toMatch(/Version:\s+v3\.5\.3/);
    const nginx = await ensureNginxBase();

    network = `${RUN}-net`;
    await execa('docker', ['network', 'create', '--label', `${MANAGED_LABEL}=true`, network]);
    await start('backend', ['--network', network, '--network-alias', 'backend', nginx.tag]);
    const conf = join(dir, 'traefik');
    await execa('mkdir', ['-p', conf]);
    await writeFile(
      join(conf, 'dynamic.yml'),
      [
        'http:',
        '  routers:',
        '    web:',
        '      rule: Host(`web.kubelab.test`)',
        '      entryPoints: [web]',
        '      service: backend',
        '  services:',
        '    backend:',
        '      loadBalancer:',
        '        servers:',
        '          - url: http://backend:80',
        '',
      ].join('\n'),
    );
    const name = await start('traefik', [
      '--network', network,
      '--publish', '127.0.0.1::80',
      '--volume', `${conf}:/etc/traefik:ro`,
      built.tag,
      '--entryPoints.web.address=:80',
      '--providers.file.filename=/etc/traefik/dynamic.yml',
      '--global.checknewversion=false',
      '--global.sendanonymoususage=false',
      '--log.level=DEBUG',
    ]);
    await waitForLog(name, /Starting provider \*file\.Provider|Configuration loaded from flags/, { timeoutMs: 30_000 });
    const port = await publishedPort(name, 80);
    // The router appears once the file provider's configuration is applied: retry briefly on 404.
    let status = 0;
    let body = '';
    for (let i = 0; i < 50 && status !== 200; i++) {
      ({ status, body } = await get(port, 'web.kubelab.test'));
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
    expect(body).toMatch(/Welcome to nginx/);
    expect((await get(port, 'other.kubelab.test')).status).toBe(404);
  }, 45 * MINUTE);
});

describe('traefik manifest', () => {
  test('deploys the built image as one pod behind a LoadBalancer Service (as k3s packages it), with a default IngressClass', async () => {
    expect(TRAEFIK_MANIFEST).toMatch(/forge\/manifests\/kubelab-traefik\.yaml$/);
    const docs = parseAllDocuments(await readFile(TRAEFIK_MANIFEST, 'utf8')).map((d) => d.toJS() as Record<string, any>);
    const kinds = docs.map((d) => `${d.kind}/${d.metadata.name}`);
    expect(kinds).toEqual(expect.arrayContaining(['ServiceAccount/traefik', 'ClusterRole/kubelab-traefik', 'ClusterRoleBinding/kubelab-traefik', 'IngressClass/traefik', 'Deployment/traefik', 'Service/traefik']));
    const ingressClass = docs.find((d) => d.kind === 'IngressClass')!;
    expect(ingressClass.metadata.annotations['ingressclass.kubernetes.io/is-default-class']).toBe('true');
    const deployment = docs.find((d) => d.kind === 'Deployment')!;
    expect(deployment.metadata.namespace).toBe('kube-system');
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.template.metadata.labels['app.kubernetes.io/name']).toBe('traefik');
    const container = deployment.spec.template.spec.containers[0];
    expect(container.image).toBe(TRAEFIK_IMAGE);
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    // servicelb's svclb pods hold the nodes' ports 80 and 443: Traefik itself holds none.
    expect(container.ports.filter((p: { hostPort?: number }) => p.hostPort)).toEqual([]);
    expect(container.args).toEqual(expect.arrayContaining(['--providers.kubernetesingress=true', '--entryPoints.web.address=:80/tcp', '--providers.kubernetesingress.ingressendpoint.publishedservice=kube-system/traefik']));
    const service = docs.find((d) => d.kind === 'Service')!;
    expect(service.spec.type).toBe('LoadBalancer');
    expect(service.spec.ports.map((p: { port: number }) => p.port)).toEqual([80, 443]);
    const role = docs.find((d) => d.kind === 'ClusterRole')!;
    const resources = role.rules.flatMap((r: { resources: string[] }) => r.resources);
    for (const r of ['ingresses', 'ingressclasses', 'services', 'endpointslices', 'secrets', 'nodes', 'ingresses/status']) expect(resources).toContain(r);
  });
});

describe('in a k3s node', () => {
  let node: string | undefined;
  const kubectl = (args: string[], input?: string) => execa('docker', ['exec', '-i', node!, 'kubectl', ...args], { input, reject: false });
  // servicelb names its DaemonSet svclb-<service>-<first 8 characters of the Service's uid>.
  const traefikUid = async () => (await kubectl(['-n', 'kube-system', 'get', 'svc', 'traefik', '-o', 'jsonpath={.metadata.uid}'])).stdout.trim();
  const importImage = async (tag: string) => {
    const saved = execa('docker', ['save', tag], { buffer: { stdout: false } });
    await saved.pipe('docker', ['exec', '-i', node!, 'ctr', '-n', 'k8s.io', 'images', 'import', '-']);
  };
  const until = async (what: string, check: () => Promise<boolean>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  };

  test('Traefik from the manifest routes an Ingress on the node\'s port 80 through servicelb; the k3s add-ons run', async () => {
    // The node image, and the add-on images it carries, as a cluster run would forge them.
    await forgeImages([FORGED_K3S_IMAGE, ...ADDON_IMAGE_TAGS]);
    const nginx = await ensureNginxBase();
    node = await start('k3s', ['--privileged', '--tmpfs', '/run', '--tmpfs', '/var/run', '--publish', '127.0.0.1::80', FORGED_K3S_IMAGE, 'server', '--disable-helm-controller']);
    await until('the node to be Ready', async () => / Ready /.test((await kubectl(['get', 'nodes'])).stdout), 3 * MINUTE);
    await importImage(nginx.tag); // the app; the add-ons ride in the node image's airgap tarball

    await execa('docker', ['cp', TRAEFIK_MANIFEST, `${node}:/var/lib/rancher/k3s/server/manifests/kubelab-traefik.yaml`]);
    const app = [
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n',
      `      containers: [{name: nginx, image: "${nginx.tag}", imagePullPolicy: Never, ports: [{containerPort: 80}]}]\n`,
      '---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n',
      '---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  rules:\n    - host: web.kubelab.test\n      http:\n        paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]\n',
    ].join('');
    await until('the app to apply', async () => (await kubectl(['apply', '-f', '-'], app)).exitCode === 0, MINUTE);
    await until('traefik and the app to roll out', async () => {
      const traefik = await kubectl(['-n', 'kube-system', 'rollout', 'status', 'deploy/traefik', '--timeout=5s']);
      const svclb = await kubectl(['-n', 'kube-system', 'rollout', 'status', 'ds/svclb-traefik-' + (await traefikUid()).slice(0, 8), '--timeout=5s']);
      const web = await kubectl(['rollout', 'status', 'deploy/web', '--timeout=5s']);
      return traefik.exitCode === 0 && svclb.exitCode === 0 && web.exitCode === 0;
    }, 3 * MINUTE);
    // servicelb gives the Service the node's address, and Traefik publishes it on the Ingress.
    const nodeIp = (await kubectl(['get', 'nodes', '-o', 'jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}'])).stdout.trim();
    await until('the Ingress address', async () => (await kubectl(['get', 'ingress', 'web', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'])).stdout === nodeIp, MINUTE);
    const port = await publishedPort(node, 80);
    let response = { status: 0, body: '' };
    await until('the Ingress to route', async () => (response = await get(port, 'web.kubelab.test').catch(() => response)).status === 200, MINUTE);
    expect(response.body).toMatch(/Welcome to nginx/);
    expect((await kubectl(['get', 'ingressclass', 'traefik', '-o', 'jsonpath={.spec.controller}'])).stdout).toBe('traefik.io/ingress-controller');
    // k3s's own add-ons, from the images built here.
    await until('coredns, metrics-server and local-path-provisioner to be available', async () => {
      const out = await kubectl(['-n', 'kube-system', 'get', 'deploy', 'coredns', 'metrics-server', 'local-path-provisioner', '-o', 'jsonpath={range .items[*]}{.status.availableReplicas}{" "}{end}']);
      return out.stdout.trim() === '1 1 1';
    }, 3 * MINUTE);
    await until('kubectl top nodes (metrics-server)', async () => (await kubectl(['top', 'nodes'])).exitCode === 0, 2 * MINUTE);
  }, 60 * MINUTE); // forging a missing node image takes up to half an hour on 2 cores
});
