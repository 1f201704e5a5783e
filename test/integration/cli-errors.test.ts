import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ensureGoTool } from '../../src/forge/go-tool.js';
import { k3dTool } from '../../src/forge/catalog.js';
import { packageRoot, toolsDir } from '../../src/util/paths.js';

// Runs the built CLI as a real process: exit codes, stderr and leftovers are what a user gets.
const cli = join(packageRoot(), 'bin', 'kubelab.js');
let home: string;
let emptyTools: string;
let realTools: string;

async function kubelab(args: string[], env: Record<string, string> = {}) {
  const result = await execa(process.execPath, [cli, ...args], {
    reject: false,
    env: { KUBELAB_HOME: home, KUBELAB_TOOLS: emptyTools, CI: 'true', ...env },
    timeout: 120_000,
  });
  return { code: result.exitCode, stderr: String(result.stderr), stdout: String(result.stdout) };
}

async function leftovers(): Promise<string[]> {
  const temps = (await readdir(tmpdir())).filter((f) => f.startsWith('kubelab-'));
  const state = await readdir(home).catch(() => [] as string[]);
  return [...temps, ...state.map((f) => `state:${f}`)];
}

/** Containers of any k3d cluster: a refused run must not have started one. */
async function clusterContainers(): Promise<string[]> {
  const { stdout } = await execa('docker', ['ps', '-a', '--filter', 'label=app=k3d', '--format', '{{.Names}}']);
  return stdout.split('\n').filter(Boolean).sort();
}

beforeAll(async () => {
  // The real k3d, built from the Go module proxy once per machine (about 2 minutes cold).
  await ensureGoTool(k3dTool);
  realTools = toolsDir();
  home = await mkdtemp(join(tmpdir(), 'kubelab-test-home-'));
  emptyTools = await mkdtemp(join(tmpdir(), 'kubelab-test-tools-'));
}, 20 * 60_000);
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(emptyTools, { recursive: true, force: true });
});

describe('bad input: one line naming the culprit, exit 2, nothing left behind', () => {
  let badManifests: string;
  beforeAll(async () => {
    badManifests = join(home, 'bad');
    await mkdir(badManifests);
    await writeFile(join(badManifests, 'deploy.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels: {}\nspec: {}\n');
  });

  test.each([
    [['run', 'lesson-9'], /unknown lesson "lesson-9"/],
    [['run', 'lesson-1', '--frobnicate'], /unknown option '--frobnicate'/],
    [['run', 'lesson-1', '--provider', 'minikube'], /--provider.*minikube/],
    [['run', 'lesson-1', '--timeout', 'soon'], /--timeout: "soon" is not a whole number of seconds/],
    [['run', 'lesson-1', '--name', 'Bad_Name'], /--name: "Bad_Name" is not a valid cluster name/],
    [['run', 'lesson-1', '--manifests', '/nonexistent/manifests'], /--manifests: \/nonexistent\/manifests does not exist/],
    [['verify', 'lesson-1', '--kubeconfig', '/nonexistent/kubeconfig'], /--kubeconfig: \/nonexistent\/kubeconfig does not exist/],
    [['down'], /down: name a lesson, or pass --name, --all or --registry/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('kubelab %j', async (args, message) => {
    const before = await leftovers();
    const result = await kubelab(args as string[]);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(2);
    expect(await leftovers()).toEqual(before);
  });

  test('malformed manifest: names the file, the line and the field', async () => {
    const result = await kubelab(['run', 'lesson-1', '--manifests', badManifests]);
    expect(result.stderr).toMatch(/bad\/deploy\.yaml:1: field "metadata\.name" is missing \(Deployment\)/);
    expect(result.code).toBe(2);
  });

  test('a kubeconfig without the requested context', async () => {
    const kubeconfig = join(home, 'kubeconfig.yaml');
    await writeFile(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: real, context: {cluster: c, user: u}}]\ncurrent-context: real\n');
    const result = await kubelab(['verify', 'lesson-1', '--kubeconfig', kubeconfig, '--context', 'imaginary']);
    expect(result.stderr).toMatch(/--context: "imaginary" is not in .*kubeconfig\.yaml \(contexts: real\)/);
    expect(result.code).toBe(2);
  });
});

describe('down leaves a cluster a live run is using', () => {
  // A name of the test's own: were the refusal broken, nothing of the user's could be deleted.
  const claim = () => join(home, 'runs', 'kubelab-it-claimed.json');
  beforeAll(async () => {
    // This test process stands for the live run: its pid is alive for the whole test.
    await mkdir(join(home, 'runs'), { recursive: true });
    await writeFile(claim(), JSON.stringify({ cluster: 'kubelab-it-claimed', provider: 'k3d', pid: process.pid, command: 'run lesson-1', keep: false, since: '2026-12-03T06:00:00.000Z' }));
  });
  afterAll(async () => {
    await rm(claim(), { force: true });
  });

  test('down is refused naming the run', async () => {
    const before = await clusterContainers();
    const result = await kubelab(['down', 'lesson-1', '--name', 'kubelab-it-claimed'], { KUBELAB_TOOLS: realTools });
    expect(result.stderr).toContain(`in use by a live kubelab run, not deleted: cluster kubelab-it-claimed (pid ${process.pid}, \`kubelab run lesson-1\` since 2026-12-03T06:00:00.000Z)`);
    expect(result.stderr).toMatch(/fix: stop that run .*or kubelab down --force/);
    expect(result.stdout).not.toMatch(/deleted|nothing to delete/);
    expect(result.code).toBe(3);
    expect(await clusterContainers()).toEqual(before);
  });

  test('down by cluster name alone is refused the same way', async () => {
    const result = await kubelab(['down', '--name', 'kubelab-it-claimed'], { KUBELAB_TOOLS: realTools });
    expect(result.stderr).toContain('in use by a live kubelab run, not deleted: cluster kubelab-it-claimed');
    expect(result.code).toBe(3);
  });

  test('--force goes ahead', async () => {
    const byName = await kubelab(['down', '--name', 'kubelab-it-claimed', '--provider', 'k3d', '--force'], { KUBELAB_TOOLS: realTools });
    expect(byName.stdout).toMatch(/no k3d cluster kubelab-it-claimed: nothing to delete/);
    expect(byName.code).toBe(0);
    const result = await kubelab(['down', 'lesson-1', '--name', 'kubelab-it-claimed', '--force'], { KUBELAB_TOOLS: realTools });
    expect(result.stdout).toMatch(/no k3d cluster kubelab-it-claimed: nothing to delete/);
    expect(result.code).toBe(0);
  });
});

describe('run into a cluster kubelab did not make: refused before anything is built', () => {
  let kubeconfig: string;
  beforeAll(async () => {
    kubeconfig = join(home, 'theirs.yaml');
    // Nothing listens on port 1: a check that reached the cluster would fail differently (exit 3).
    await writeFile(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: theirs, context: {cluster: c, user: u}}]\ncurrent-context: theirs\n');
  });

  test.each([
    [['--registry', 'localhost:5001'], /--registry is for a cluster kubelab did not make \(with --kubeconfig\/--context\)/],
    [['--kubeconfig', '@', '--name', 'mine'], /--name describes a cluster kubelab makes: with --kubeconfig\/--context the cluster is yours, drop --name/],
    [['--kubeconfig', '@'], /lesson-1's manifests use images kubelab builds \(myapp:latest\), which a cluster kubelab did not make cannot have: name a registry its nodes pull from with --registry/],
    [['--kubeconfig', '@', '--registry', 'http://localhost:5001'], /--registry: "http:\/\/localhost:5001" is not a registry address/],
    [['--kubeconfig', '@', '--context', 'mine'], /--context: "mine" is not in .*theirs\.yaml \(contexts: theirs\)/],
  ])('run lesson-1 %j', async (flags, message) => {
    const before = await leftovers();
    const result = await kubelab(['run', 'lesson-1', ...flags.map((f) => (f === '@' ? kubeconfig : f))]);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(2);
    expect(await leftovers()).toEqual(before);
  });

  test('a lesson on two clusters names them', async () => {
    const result = await kubelab(['run', 'lesson-3', '--kubeconfig', kubeconfig, '--registry', 'localhost:5001']);
    expect(result.stderr).toMatch(/lesson-3 runs on 2 clusters \(yadoc-api-exposed, yadoc-with-etcd\): a run into an existing cluster takes a lesson with one/);
    expect(result.code).toBe(2);
  });

  test('a cluster that does not answer is an environment error naming its server, before any image is built', async () => {
    const result = await kubelab(['run', 'lesson-1', '--kubeconfig', kubeconfig, '--registry', 'localhost:5001'], { KUBELAB_TOOLS: realTools });
    expect(result.stderr).toMatch(/cannot reach the API server https:\/\/127\.0\.0\.1:1 \(context theirs in .*theirs\.yaml\)/);
    expect(result.stderr).not.toMatch(/build images/);
    expect(result.code).toBe(3);
  });
});

describe('environment missing: exit 3 with the remedy', () => {
  test('k3d not installed and Go missing to build it', async () => {
    const result = await kubelab(['run', 'lesson-1'], { PATH: '/usr/bin:/bin' });
    expect(result.stderr).toMatch(/building k3d needs Go, which is not installed\n  fix: install Go/);
    expect(result.code).toBe(3);
  });

  test('run with the docker daemon unreachable', async () => {
    const result = await kubelab(['run', 'lesson-1'], { KUBELAB_TOOLS: realTools, DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    expect(result.stderr).toMatch(/the docker daemon is not reachable.*\n  fix: kubelab doctor --fix/);
    expect(result.code).toBe(3);
  });

  test('run without the k3s node image names it and leaves no cluster behind', async () => {
    const before = await clusterContainers();
    const tempBefore = await leftovers();
    const result = await kubelab(['run', 'lesson-1', '--name', 'kubelab-it-noimage', '--image', 'kubelab-it/no-such-node:0'], { KUBELAB_TOOLS: realTools });
    // --pull missing tried the registry first: its error is in the message.
    expect(result.stderr).toMatch(/k3d cluster kubelab-it-noimage needs kubelab-it\/no-such-node:0 \(docker pull kubelab-it\/no-such-node:0: .+\), which is not in the local Docker image store, was not pulled and is not an image kubelab forges/);
    expect(result.stderr).toMatch(/fix: docker pull it where a registry is reachable, or name an image kubelab forges/);
    expect(result.code).toBe(3);
    expect(await clusterContainers()).toEqual(before);
    expect(await leftovers()).toEqual(tempBefore);
  }, 10 * 60_000);

  test('docker daemon not running', async () => {
    const result = await kubelab(['doctor', 'lesson-1'], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    expect(result.stdout).toMatch(/FAIL  docker daemon .*not reachable/);
    expect(result.stdout).toMatch(/fix: start dockerd/);
    expect(result.code).toBe(3);
  });

  describe('a port the lesson needs is taken', () => {
    let server: Server;
    beforeAll(async () => {
      server = createServer();
      // Held by something else (a lesson cluster of another run) is an error naming the port, not a timeout.
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(8081, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });
    test('doctor names the port', async () => {
      const result = await kubelab(['doctor', 'lesson-1']);
      expect(result.stdout).toMatch(/FAIL  port 8081 \(lesson-1\)\s+in use/);
      expect(result.code).toBe(3);
    }, 60_000); // doctor inspects every image and starts a probe container: seconds on a loaded 2-core machine
    test('run refuses before creating anything, naming the port', async () => {
      const before = await clusterContainers();
      const result = await kubelab(['run', 'lesson-1'], { KUBELAB_TOOLS: realTools });
      expect(result.stderr).toMatch(/port 8081 .*in use/);
      expect(result.code).toBe(3);
      expect(await clusterContainers()).toEqual(before);
    }, 10 * 60_000);
  });
});

describe('help and usage', () => {
  test('run --help documents the flags and the exit codes', async () => {
    const result = await kubelab(['run', 'lesson-1', '--help']);
    expect(result.code).toBe(0);
    for (const flag of ['--provider', '--keep', '--manifests', '--json', '--junit', '--base-image']) expect(result.stdout).toContain(flag);
    expect(result.stdout).toMatch(/130\s+interrupted/);
  });
  test.each(['run', 'up', 'verify', 'down', 'list', 'kubeconfig', 'doctor'])('%s --help', async (command) => {
    const result = await kubelab([command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Usage: kubelab ${command}`));
  });
  test('kubeconfig prints a path in kubelab state, never ~/.kube', async () => {
    const result = await kubelab(['kubeconfig', 'lesson-1']);
    expect(result.stdout.trim()).toBe(join(home, 'kubeconfigs', 'yadoc-exposed.yaml'));
  });
});
