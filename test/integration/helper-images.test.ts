/**
 * The helper images k3s and k3d run (pause, busybox, k3d-tools, k3d-proxy), built locally and run
 * on the real docker: pause stays up and stops on SIGTERM, busybox runs `sh -c`, k3d-tools runs
 * `noop`, k3d-proxy renders a k3d-like values.yaml with confd and forwards a port to a container.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishedPort, waitForLog } from '../../src/docker/engine.js';
import { K3D_PROXY_IMAGE, K3D_TOOLS_IMAGE, helperImageItems } from '../../src/forge/k3d-helpers.js';
import { BUSYBOX_IMAGE, PAUSE_IMAGE } from '../../src/forge/small-images.js';

const MINUTE = 60_000;
const suffix = `${process.pid}`;
const containers: string[] = [];
const networks: string[] = [];
let scratch = '';

const docker = (args: string[]) => execa('docker', args, { reject: false });
const name = (what: string) => {
  const n = `kl-helper-test-${what}-${suffix}`;
  containers.push(n);
  return n;
};
const state = async (container: string) => (await docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', container])).stdout.trim();

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'kl-helper-test-'));
  for (const item of helperImageItems()) {
    // KUBELAB_FORCE_HELPERS=1 rebuilds every image (caches of binaries and the Go build stay warm).
    const result = await item.ensure({ force: process.env.KUBELAB_FORCE_HELPERS === '1' });
    console.log(
      `${item.name}: ${result.skipped ? 'cached' : `built in ${(result.durationMs / 1000).toFixed(1)} s`}, ` +
        `${((result.sizeBytes ?? 0) / 1e6).toFixed(1)} MB (${result.location})`,
    );
  }
}, 40 * MINUTE);

afterAll(async () => {
  for (const c of containers) await docker(['rm', '--force', '--volumes', c]);
  for (const n of networks) await docker(['network', 'rm', n]);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('forge items', () => {
  test('every helper image is current after building, under its consumer tag', async () => {
    for (const item of helperImageItems()) {
      const status = await item.status();
      expect(status.present).toBe(true);
      expect((await item.ensure({})).skipped).toBe(true);
    }
    const tags = await Promise.all(helperImageItems().map(async (i) => (await i.status()).location));
    expect(tags).toEqual([PAUSE_IMAGE, BUSYBOX_IMAGE, K3D_TOOLS_IMAGE, K3D_PROXY_IMAGE]);
  });
});

describe('pause', () => {
  test('runs, stays up and stops on SIGTERM', async () => {
    const c = name('pause');
    expect((await docker(['run', '--detach', '--name', c, PAUSE_IMAGE])).exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await state(c)).toBe('running 0');
    const started = Date.now();
    expect((await docker(['stop', '--time', '20', c])).exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000); // SIGTERM ended it, not the SIGKILL after 20 s
    expect(await state(c)).toBe('exited 0');
    expect((await docker(['logs', c])).stderr + (await docker(['logs', c])).stdout).toMatch(/Shutting down, got signal/);
  }, MINUTE);
});

describe('busybox', () => {
  test("runs sh -c scripts like local-path-provisioner's helper pod", async () => {
    const result = await docker(['run', '--rm', BUSYBOX_IMAGE, 'sh', '-c', 'echo ok']);
    expect(result.stdout.trim()).toBe('ok');
    const script = 'set -e; mkdir -m 0777 -p /data/pvc-1; test -d /data/pvc-1; rm -rf /data/pvc-1; test ! -e /data/pvc-1; echo done';
    const setup = await docker(['run', '--rm', BUSYBOX_IMAGE, 'sh', '-c', script]);
    expect(setup.stdout.trim()).toBe('done');
  }, MINUTE);
});

describe('k3d-tools', () => {
  test('runs noop as k3d starts it, and stops promptly', async () => {
    const c = name('tools');
    expect((await docker(['run', '--detach', '--name', c, K3D_TOOLS_IMAGE, 'noop'])).exitCode).toBe(0);
    await waitForLog(c, /Sleeping until stopped/, { timeoutMs: 20_000 });
    expect(await state(c)).toBe('running 0');
    const exec = await docker(['exec', c, './k3d-tools', '--version']); // k3d execs ./k3d-tools from WORKDIR /app
    expect(exec.stdout).toMatch(/k3d-tools version v5\.9\.0/);
    const started = Date.now();
    await docker(['stop', '--time', '20', c]);
    expect(Date.now() - started).toBeLessThan(5000);
  }, MINUTE);

  test('save-image writes a docker save tarball through the mounted socket, as `k3d image import` asks', async () => {
    const c = name('tools-save');
    const out = join(scratch, 'images');
    await mkdir(out, { recursive: true });
    // k3d mounts the docker socket and the cluster's image volume into its tools node.
    const mounts = ['-v', '/var/run/docker.sock:/var/run/docker.sock', '-v', `${out}:/k3d/images`];
    expect((await docker(['run', '--detach', '--name', c, ...mounts, K3D_TOOLS_IMAGE, 'noop'])).exitCode).toBe(0);
    const save = await docker(['exec', c, './k3d-tools', 'save-image', '-d', '/k3d/images/busybox.tar', BUSYBOX_IMAGE]);
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
    expect((await docker(['run', '--detach', '--name', backend, '--network', net, BUSYBOX_IMAGE, 'sh', '-c', serve])).exitCode).toBe(0);

    // What k3d writes to /etc/confd/values.yaml (pkg/types/loadbalancer.go, yaml.Marshal of LoadbalancerConfig).
    const values = join(scratch, 'values.yaml');
    await writeFile(values, `ports:\n  80.tcp:\n  - ${backend}\nsettings:\n  workerConnections: 1024\n`);
    const lb = name('proxy');
    expect((await docker(['create', '--name', lb, '--network', net, '--publish', '127.0.0.1::80', K3D_PROXY_IMAGE])).exitCode).toBe(0);
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
    await new Promise((r) => setTimeout(r, 3000)); // past nginx-proxy's initial runs
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
