/**
 * Lessons of the user's own, from any folder: a TypeScript lesson file importing 'kubelab' loads
 * without a build step, its manifests resolve next to it, and broken lesson files are bad input
 * (exit 2) naming the file. The CLI is the built one, run as a user would.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../../src/util/paths.js';

const cli = join(packageRoot(), 'bin', 'kubelab.js');
let project: string;

const LESSON = `import { defineLesson, deploymentAvailable, nodesReady } from 'kubelab';

const replicas: number = 1; // TypeScript, loaded as it is
export default defineLesson({
  id: 'my-web',
  title: 'my web server',
  summary: 'nginx behind a Deployment',
  cluster: { name: 'my-web', servers: 1, agents: 0, ports: [], k3sArgs: [] },
  images: [{ app: 'nginx', tag: 'nginx:latest' }],
  manifests: 'manifests',
  namespace: 'default',
  exercise: [],
  assertions: [nodesReady(1, 0), deploymentAvailable('web', 'app=web')],
});
export const expectedReplicas = replicas;
`;

function kubelab(args: string[]) {
  return execa(process.execPath, [cli, ...args], { cwd: project, reject: false, env: { CI: 'true', KUBELAB_HOME: join(project, '.state') } });
}

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'kubelab-own-lessons-'));
  await mkdir(join(project, 'node_modules'));
  await symlink(packageRoot(), join(project, 'node_modules', 'kubelab'), 'dir');
  await writeFile(join(project, 'package.json'), '{ "name": "my-lessons", "type": "module" }\n');
  await mkdir(join(project, 'lessons', 'manifests'), { recursive: true });
  await writeFile(join(project, 'lessons', 'my-web.ts'), LESSON);
  await writeFile(
    join(project, 'lessons', 'manifests', 'web.yaml'),
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n' +
      '    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: "nginx:latest", imagePullPolicy: Never}]}\n',
  );
  await writeFile(join(project, 'lessons', 'not-a-lesson.ts'), 'export default { id: 42 };\n');
  await writeFile(join(project, 'lessons', 'no-manifests.ts'), LESSON.replace("id: 'my-web'", "id: 'no-manifests'").replace("manifests: 'manifests'", "manifests: 'nowhere'"));
  await writeFile(join(project, 'lessons', 'broken.ts'), 'export default defineLesson({ id: \n');
});
afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

describe('a lesson file of your own', () => {
  test('its manifests folder resolves next to the lesson file, not in kubelab', async () => {
    const result = await kubelab(['run', './lessons/no-manifests.ts']);
    expect(result.stderr).toContain(`lesson no-manifests's manifests: ${join(project, 'lessons', 'nowhere')} does not exist`);
    expect(result.exitCode).toBe(2);
  }, 60_000);

  test.each([
    ['./lessons/missing.ts', /lesson file \.\/lessons\/missing\.ts does not exist/],
    ['./lessons/not-a-lesson.ts', /lesson file \.\/lessons\/not-a-lesson\.ts must export default defineLesson\(\{ \.\.\. \}\): missing or wrong id, title, manifests/],
    ['./lessons/broken.ts', /lesson file \.\/lessons\/broken\.ts cannot be loaded: /],
  ])('kubelab run %s: exit 2 naming the file', async (file, message) => {
    const result = await kubelab(['run', file]);
    expect(result.stderr).toMatch(message);
    expect(result.exitCode).toBe(2);
  }, 60_000);

  test('the CLI takes it like a built-in lesson: verify against an API server that is not there is exit 3', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as { port: number };
        server.close(() => resolve(free));
      });
    });
    await writeFile(
      join(project, 'kubeconfig.yaml'),
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}"}}]\n` +
        'users: [{name: u, user: {token: t}}]\ncontexts: [{name: real, context: {cluster: c, user: u}}]\ncurrent-context: real\n',
    );
    const result = await kubelab(['verify', './lessons/my-web.ts', '--kubeconfig', 'kubeconfig.yaml']);
    expect(result.stderr).toMatch(/cannot reach the API server https:\/\/127\.0\.0\.1:\d+/);
    expect(result.exitCode).toBe(3);
  }, 60_000);
});
