/**
 * The helper images k3s and k3d run (pause, busybox, klipper-lb, k3d-tools, k3d-proxy), built
 * locally and run on the real docker: pause stays up and stops on SIGTERM, busybox runs `sh -c`,
 * klipper-lb forwards a port to a server with kernel NAT as an svclb pod does, k3d-tools runs
 * `noop`, k3d-proxy renders a k3d-like values.yaml with confd and forwards a port to a container.
 * Each is built afresh (forced) under test-only names, so that the tests run what this run built
 * while the forged images clusters use stay as they are.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishedPort, waitForLog } from '../../src/docker/engine.js';
import { K3D_PROXY_IMAGE, K3D_TOOLS_IMAGE, helperImageItems, k3dProxyImage, k3dToolsImage } from '../../src/forge/k3d-helpers.js';
import { BUSYBOX_IMAGE, KLIPPER_LB_IMAGE, PAUSE_IMAGE, busyboxImage, ensureHelperImage, helperStatus, klipperLbImage, pauseImage, type HelperImage } from '../../src/forge/small-images.js';
import type { ForgeResult } from '../../src/forge/types.js';

const MINUTE = 60_000;
const suffix = `${process.pid}`;
const containers: string[] = [];
const networks: string[] = [];
let scratch = '';

/** The helper under a test tag, its recipe image in a test repository too (a forced build moves neither of the real tags). */
function underTestNames(helper: HelperImage): HelperImage {
  const slug = helper.name.replace(/ image$/, '').replace(/[^a-z0-9]+/g, '-');
  return {
    ...helper,
    tag: `kubelab-it/${slug}:${suffix}`,
    recipe: async (options) => ({ ...(await helper.recipe(options)), repository: `kubelab-it/${slug}-recipe` }),
  };
}
const [pause, busybox, klipperLb, tools, proxy] = [pauseImage, busyboxImage, klipperLbImage, k3dToolsImage, k3dProxyImage].map(underTestNames) as [
  HelperImage,
  HelperImage,
  HelperImage,
  HelperImage,
  HelperImage,
];
const forced = new Map<HelperImage, ForgeResult>();

const docker = (args: string[]) => execa('docker', args, { reject: false });
const name = (what: string) => {
  const n = `kl-helper-test-${what}-${suffix}`;
  containers.push(n);
  return n;
};
const state = async (container: string) => (await docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', container])).stdout.trim();

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'kl-helper-test-'));
  for (const helper of [pause, busybox, klipperLb, tools, proxy]) {
    // Forced: the tests claim a build, which a current image would otherwise skip (cached binaries are reused).
    const result = await ensureHelperImage(helper, { force: true });
    forced.set(helper, result);
    console.log(`${helper.name}: built in ${(result.durationMs / 1000).toFixed(1)} s, ${((result.sizeBytes ?? 0) / 1e6).toFixed(1)} MB (${result.location})`);
  }
}, 40 * MINUTE);

afterAll(async () => {
  for (const c of containers) await docker(['rm', '--force', '--volumes', c]);
  for (const n of networks) await docker(['network', 'rm', n]);
  // The test builds, by id: their test tag and their recipe tag go with them.
  for (const helper of forced.keys()) {
    const id = (await docker(['image', 'inspect', '--format', '{{.Id}}', helper.tag])).stdout.trim();
    if (id) await docker(['image', 'rm', '--force', id]);
  }
  if (scratch) await rm(scratch, { recursive: true, force: true });
}, 2 * MINUTE);

describe('forge items', () => {
  test('each helper image is built when forced, then found current and skipped', async () => {
    expect([...forced.keys()].map((h) => h.name)).toEqual(['pause image', 'busybox image', 'klipper-lb image', 'k3d-tools image', 'k3d-proxy image']);
    for (const [helper, result] of forced) {
      expect(result.skipped).toBe(false);
      expect(result.location).toBe(helper.tag);
      expect((await helperStatus(helper)).present).toBe(true);
      expect((await ensureHelperImage(helper)).skipped).toBe(true);
    }
  });

  test('every forged helper image is current under its consumer tag', async () => {
    for (const item of helperImageItems()) {
      await item.ensure({}); // built only where this machine lacks it
      expect((await item.status()).present).toBe(true);
    }
    const tags = await Promise.all(helperImageItems().map(async (i) => (await i.status()).location));
    expect(tags).toEqual([PAUSE_IMAGE, BUSYBOX_IMAGE, KLIPPER_LB_IMAGE, K3D_TOOLS_IMAGE, K3D_PROXY_IMAGE]);
  }, 40 * MINUTE);
});

describe('pause', () => {
  test('runs, stays up and stops on SIGTERM', async () => {
    const c = name('pause');
    expect((await docker(['run', '--detach', '--name', c, pause.tag])).exitCode).toBe(0);
    expect(await state(c)).toBe('running 0');
    expect((await docker(['stop', '--time', '20', c])).exitCode).toBe(0);
    // Exit 0 and pause's own farewell: SIGTERM ended it while it was up (docker's SIGKILL after --time leaves 137, and no message).
    expect(await state(c)).toBe('exited 0');
    const logs = await docker(['logs', c]);
    expect(logs.stderr + logs.stdout).toMatch(/Shutting down, got signal: Terminated/);
  }, MINUTE);
});

describe('busybox', () => {
  test("runs sh -c scripts like local-path-provisioner's helper pod", async () => {
    const result = await docker(['run', '--rm', busybox.tag, 'sh', '-c', 'echo ok']);
    expect(result.stdout.trim()).toBe('ok');
    const script = 'set -e; mkdir -m 0777 -p /data/pvc-1; test -d /data/pvc-1; rm -rf /data/pvc-1; test ! -e /data/pvc-1; echo done';
    const setup = await docker(['run', '--rm', busybox.tag, 'sh', '-c', script]);
    expect(setup.stdout.trim()).toBe('done');
  }, MINUTE);
});

describe('klipper-lb', () => {
  const testNetwork = async (what: string) => {
    const net = `kl-helper-test-${what}-${suffix}`;
    networks.push(net);
    expect((await docker(['network', 'create', net])).exitCode).toBe(0);
    return net;
  };
  const ipOf = async (container: string, net: string) =>
    (await docker(['inspect', '--format', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, container])).stdout.trim();

  test('forwards its SRC_PORT to DEST_IPS:DEST_PORT with kernel NAT, as k3s starts it in an svclb pod, and stops on SIGTERM', async () => {
    const net = await testNetwork('lbnet');
    const backend = name('lb-backend');
    const serve = 'mkdir -p /www && echo hello-through-svclb > /www/index.html && exec httpd -f -p 80 -h /www';
    expect((await docker(['run', '--detach', '--name', backend, '--network', net, busybox.tag, 'sh', '-c', serve])).exitCode).toBe(0);
    const lb = name('lb');
    // What k3s v1.32's servicelb gives the container: NET_ADMIN, ip_forward, the port as a hostPort, this environment.
    const env = ['SRC_PORT=8080', 'SRC_RANGES=0.0.0.0/0', 'DEST_PROTO=TCP', 'DEST_PORT=80', `DEST_IPS=${await ipOf(backend, net)}`].flatMap((e) => ['--env', e]);
    const run = ['run', '--detach', '--name', lb, '--network', net, '--cap-add', 'NET_ADMIN', '--sysctl', 'net.ipv4.ip_forward=1', '--publish', '127.0.0.1::8080'];
    expect((await docker([...run, ...env, klipperLb.tag])).exitCode).toBe(0);
    await waitForLog(lb, /forwarding TCP port 8080 from 0\.0\.0\.0\/0 to [\d.]+ port 80/, { timeoutMs: 20_000 });
    // Nothing listens in the container: the answer can only come through the DNAT to the backend.
    const response = await fetch(`http://127.0.0.1:${await publishedPort(lb, 8080)}/`);
    expect(response.status).toBe(200);
    expect((await response.text()).trim()).toBe('hello-through-svclb');
    expect((await docker(['stop', '--time', '20', lb])).exitCode).toBe(0);
    expect(await state(lb)).toBe('exited 0');
  }, MINUTE);

  test('a source range that excludes the client is not forwarded; bad environment is refused by name', async () => {
    const net = await testNetwork('lbnet-ranges');
    const lb = name('lb-ranges');
    const env = ['SRC_PORT=8080', 'SRC_RANGES=10.255.255.0/24', 'DEST_PORT=80', 'DEST_IPS=10.255.255.1'].flatMap((e) => ['--env', e]);
    const run = ['run', '--detach', '--name', lb, '--network', net, '--cap-add', 'NET_ADMIN', '--sysctl', 'net.ipv4.ip_forward=1', '--publish', '127.0.0.1::8080'];
    expect((await docker([...run, ...env, klipperLb.tag])).exitCode).toBe(0);
    await waitForLog(lb, /forwarding TCP port 8080 from 10\.255\.255\.0\/24/, { timeoutMs: 20_000 });
    // Not DNATed, the connection reaches the container itself, where nothing listens.
    await expect(fetch(`http://127.0.0.1:${await publishedPort(lb, 8080)}/`, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();

    const bad = await docker(['run', '--rm', '--cap-add', 'NET_ADMIN', '--env', 'SRC_PORT=80', '--env', 'DEST_PORT=80', '--env', 'DEST_IPS=not-an-ip', klipperLb.tag]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/DEST_IPS: "not-an-ip" is not an IP address/);
  }, MINUTE);
});

describe('k3d-tools', () => {
  test('runs noop as k3d starts it, and stops on SIGTERM', async () => {
    const c = name('tools');
    expect((await docker(['run', '--detach', '--name', c, tools.tag, 'noop'])).exitCode).toBe(0);
    await waitForLog(c, /Sleeping until stopped/, { timeoutMs: 20_000 });
    expect(await state(c)).toBe('running 0');
    const exec = await docker(['exec', c, './k3d-tools', '--version']); // k3d execs ./k3d-tools from WORKDIR /app
    expect(exec.stdout).toMatch(/k3d-tools version v5\.9\.0/);
    expect((await docker(['stop', '--time', '20', c])).exitCode).toBe(0);
    expect(await state(c)).toBe('exited 0'); // its SIGTERM handler returned, not docker's SIGKILL (137)
  }, MINUTE);

  test('save-image writes a docker save tarball through the mounted socket, as `k3d image import` asks', async () => {
    const c = name('tools-save');
    const out = join(scratch, 'images');
    await mkdir(out, { recursive: true });
    // k3d mounts the docker socket and the cluster's image volume into its tools node.
    const mounts = ['-v', '/var/run/docker.sock:/var/run/docker.sock', '-v', `${out}:/k3d/images`];
    expect((await docker(['run', '--detach', '--name', c, ...mounts, tools.tag, 'noop'])).exitCode).toBe(0);
    const save = await docker(['exec', c, './k3d-tools', 'save-image', '-d', '/k3d/images/busybox.tar', busybox.tag]);
    expect(save.exitCode).toBe(0);
    const listing = await execa('tar', ['-tf', join(out, 'busybox.tar')]);
    expect(listing.stdout.split('\n')).toContain('manifest.json');
    const missing = await docker(['exec', c, './k3d-tools', 'save-image', '-d', '/k3d/images/none.tar', 'kubelab-it/no-such-image:0']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/docker API answered 404/);
    expect(existsSync(join(out, 'none.tar'))).toBe(false);
  }, MINUTE);
});

describe('k3d-proxy', () => {
  test('renders a k3d values.yaml with confd and forwards the port to a container', async () => {
    const net = `kl-helper-test-net-${suffix}`;
    networks.push(net);
    expect((await docker(['network', 'create', net])).exitCode).toBe(0);
    const backend = name('backend');
    const serve = 'mkdir -p /www && echo hello-from-backend > /www/index.html && exec httpd -f -p 80 -h /www';
    expect((await docker(['run', '--detach', '--name', backend, '--network', net, busybox.tag, 'sh', '-c', serve])).exitCode).toBe(0);

    // What k3d writes to /etc/confd/values.yaml (pkg/types/loadbalancer.go, yaml.Marshal of LoadbalancerConfig).
    const values = join(scratch, 'values.yaml');
    await writeFile(values, `ports:\n  80.tcp:\n  - ${backend}\nsettings:\n  workerConnections: 1024\n`);
    const lb = name('proxy');
    expect((await docker(['create', '--name', lb, '--network', net, '--publish', '127.0.0.1::80', proxy.tag])).exitCode).toBe(0);
    expect((await docker(['cp', values, `${lb}:/etc/confd/values.yaml`])).exitCode).toBe(0);
    expect((await docker(['start', lb])).exitCode).toBe(0);
    await waitForLog(lb, /start worker processes/, { timeoutMs: 60_000 });

    const config = await docker(['exec', lb, 'cat', '/etc/nginx/nginx.conf']);
    expect(config.stdout).toMatch(new RegExp(`server ${backend}:80 max_fails=1 fail_timeout=10s;`));
    expect(config.stdout).toMatch(/listen\s+80;/);

    const port = await publishedPort(lb, 80);
    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect(response.status).toBe(200);
    expect((await response.text()).trim()).toBe('hello-from-backend');

    // k3d node create/delete rewrite values.yaml and wait for nginx to reload: confd -watch must see it.
    // It watches the file once its first pass (a pid other than the initial one-time run's) is done:
    // the config found in sync, or rewritten and nginx reloaded (which fails if nginx is not up yet).
    const oneTime = /confd\[(\d+)\]/.exec(await waitForLog(lb, /confd\[\d+\]: INFO Starting confd/, { timeoutMs: 30_000 }))![1];
    const firstPassDone = `confd\\[(?!${oneTime}\\])\\d+\\]: (\\w+ Target config /etc/nginx/nginx\\.conf (has been updated|in sync)|ERROR exit status)`;
    await waitForLog(lb, new RegExp(firstPassDone), { timeoutMs: 30_000 });
    const since = Math.floor(Date.now() / 1000);
    await writeFile(values, `ports:\n  80.tcp:\n  - ${backend}\n  8080.tcp:\n  - ${backend}\nsettings:\n  workerConnections: 1024\n`);
    expect((await docker(['cp', values, `${lb}:/etc/confd/values.yaml`])).exitCode).toBe(0);
    let reloaded = '';
    for (let i = 0; i < 40 && !/listen\s+8080;/.test(reloaded); i++) {
      await new Promise((r) => setTimeout(r, 250));
      reloaded = (await docker(['exec', lb, 'cat', '/etc/nginx/nginx.conf'])).stdout;
    }
    expect(reloaded).toMatch(/listen\s+8080;/);
    const logs = await docker(['logs', '--since', String(since), lb]);
    expect(logs.stdout + logs.stderr).toMatch(/start worker processes/);
    expect((await docker(['logs', lb])).stderr).not.toMatch(/panic:/);
  }, 3 * MINUTE);
});
