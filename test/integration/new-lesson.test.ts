/**
 * `kubelab new lesson` through the built CLI: it writes the starter into a bare folder (no
 * package.json, no node_modules) where the lesson then loads, 'kubelab' and all; bad input is exit 2
 * naming the argument or flag, with nothing written. Running the starter green on a cluster is
 * test/cluster/new-lesson.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../../src/util/paths.js';

const cli = join(packageRoot(), 'bin', 'kubelab.js');
let folder: string;

function kubelab(args: string[]) {
  return execa(process.execPath, [cli, ...args], { cwd: folder, reject: false, env: { CI: 'true', KUBELAB_HOME: join(folder, '.state') } });
}

/** Every file and folder under `dir`, relative to it (symlinks listed, not followed: cjs-project links kubelab). */
async function tree(dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(join(dir, prefix), { withFileTypes: true }).catch(() => []);
  const paths: string[] = [];
  for (const entry of entries) {
    const path = join(prefix, entry.name);
    if (path === '.state') continue;
    paths.push(path);
    if (entry.isDirectory()) paths.push(...(await tree(dir, path)));
  }
  return paths.sort();
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'kubelab-it-new-lesson-'));
  // A lesson that loads is checked up to verify's one /version call, which finds no API server at a free port.
  await writeFile(
    join(folder, 'kubeconfig.yaml'),
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${await freePort()}"}}]\n` +
      'users: [{name: u, user: {token: t}}]\ncontexts: [{name: real, context: {cluster: c, user: u}}]\ncurrent-context: real\n',
  );
});
afterAll(async () => {
  await execa('chattr', ['-i', join(folder, 'frozen')], { reject: false });
  await rm(folder, { recursive: true, force: true });
});

describe('kubelab new lesson NAME [--dir D]', () => {
  test('writes NAME.ts and manifests/NAME/ into D (made if missing) and says how to run it', async () => {
    const result = await kubelab(['new', 'lesson', 'my-web', '--dir', 'lessons', '--port', '8093']);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(await tree(join(folder, 'lessons'))).toEqual([
      'manifests',
      'manifests/my-web',
      'manifests/my-web/configmap.yaml',
      'manifests/my-web/deployment.yaml',
      'manifests/my-web/ingress.yaml',
      'manifests/my-web/service.yaml',
      'my-web.ts',
    ]);
    expect(result.stdout).toMatch(/^wrote lessons\/my-web\.ts$/m);
    expect(result.stdout).toMatch(/^run it: kubelab run \.\/lessons\/my-web\.ts$/m);
    expect(await readFile(join(folder, 'lessons', 'my-web.ts'), 'utf8')).toMatch(/^import \{[^}]+\} from 'kubelab';$/m);
  }, 60_000);

  test("the starter loads from a folder that has no kubelab installed: 'kubelab' resolves to the CLI's own", async () => {
    expect(await tree(folder)).not.toContain('node_modules');
    const result = await kubelab(['verify', './lessons/my-web.ts', '--kubeconfig', 'kubeconfig.yaml']);
    expect(result.stderr).toMatch(/cannot reach the API server https:\/\/127\.0\.0\.1:\d+/);
    expect(result.exitCode).toBe(3);
  }, 60_000);

  test('it loads in a CommonJS project that links this kubelab too, with one copy of kubelab loaded', async () => {
    const project = join(folder, 'cjs-project');
    await mkdir(join(project, 'node_modules'), { recursive: true });
    await symlink(packageRoot(), join(project, 'node_modules', 'kubelab'), 'dir');
    await writeFile(join(project, 'package.json'), '{ "name": "cjs-lessons" }\n');
    expect((await kubelab(['new', 'lesson', 'cjs-web', '--dir', 'cjs-project'])).exitCode).toBe(0);
    // A second copy compiled by tsx's require hook failed here with "Illegal constructor" (undici loaded twice).
    const result = await kubelab(['verify', './cjs-project/cjs-web.ts', '--kubeconfig', 'kubeconfig.yaml']);
    expect(result.stderr).toMatch(/cannot reach the API server https:\/\/127\.0\.0\.1:\d+/);
    expect(result.exitCode).toBe(3);
  }, 60_000);

  test.each([
    [['new', 'lesson', 'My_Web', '--dir', 'fresh'], /^kubelab: new lesson NAME: "My_Web" is not a valid cluster name\n {2}fix: use 1-32 lowercase letters, digits and dashes$/m],
    [['new', 'lesson', 'my-web', '--dir', 'lessons'], /^kubelab: new lesson my-web: lessons\/my-web\.ts already exists$/m],
    [['new', 'lesson', 'other', '--dir', 'lessons/my-web.ts'], /^kubelab: --dir lessons\/my-web\.ts: \S+\/lessons\/my-web\.ts is a file, not a folder$/m],
    [['new', 'lesson', 'other', '--dir', 'frozen/sub'], /^kubelab: --dir frozen\/sub: folder \S+\/frozen is not writable$/m],
    [['new', 'lesson', 'other', '--dir', 'fresh', '--port', '70000'], /^kubelab: --port: "70000" is not a port number \(1-65535\)$/m],
    [['new', 'lesson'], /missing required argument 'NAME'/],
    [['new', 'lessons', 'x'], /unknown command 'lessons'/],
  ])('kubelab %j: exit 2 naming it, nothing written', async (args, message) => {
    await mkdir(join(folder, 'frozen'), { recursive: true });
    // Unwritable even for root, who passes every permission check: an immutable folder.
    await execa('chattr', ['+i', join(folder, 'frozen')]);
    const before = await tree(folder);
    const result = await kubelab(args);
    expect(result.stderr).toMatch(message);
    expect(result.exitCode).toBe(2);
    expect(await tree(folder)).toEqual(before);
  }, 60_000);

  test('a manifests folder left from another lesson of the same name is not overwritten either', async () => {
    await mkdir(join(folder, 'half', 'manifests', 'my-web'), { recursive: true });
    const result = await kubelab(['new', 'lesson', 'my-web', '--dir', 'half']);
    expect(result.stderr).toMatch(/^kubelab: new lesson my-web: half\/manifests\/my-web already exists$/m);
    expect(result.exitCode).toBe(2);
    expect(await tree(join(folder, 'half'))).toEqual(['manifests', 'manifests/my-web']);
  }, 60_000);
});
