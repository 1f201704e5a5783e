/**
 * Another project can import kubelab by name: a temp project with kubelab in its node_modules (a
 * link to this package, as `npm install ../kubelab` makes) imports the public API from the built
 * package and defines a lesson with it.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../../src/util/paths.js';

let project: string;

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'kubelab-consumer-'));
  await mkdir(join(project, 'node_modules'));
  await symlink(packageRoot(), join(project, 'node_modules', 'kubelab'), 'dir');
  await writeFile(join(project, 'package.json'), '{ "name": "my-lessons", "type": "module" }\n');
  await writeFile(
    join(project, 'my-lesson.js'),
    [
      "import { defineLesson, nodesReady, deploymentAvailable } from 'kubelab';",
      'const lesson = defineLesson({',
      "  id: 'my-app', title: 'my app', namespace: 'default', manifests: 'my-app', images: [],",
      "  cluster: { name: 'my-app', servers: 1, agents: 0, ports: [], k3sArgs: [] },",
      "  exercise: [], assertions: [nodesReady(1, 0), deploymentAvailable('web')],",
      '});',
      "console.log(JSON.stringify(lesson.assertions.map((a) => a.name)));",
    ].join('\n'),
  );
});
afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

describe('kubelab as a package', () => {
  test("import { defineLesson, ... } from 'kubelab' works in another project", async () => {
    const result = await execa(process.execPath, ['my-lesson.js'], { cwd: project, reject: false });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual(['1 nodes Ready (1 control-plane, 0 agents)', 'Deployment web is available']);
  });

  test('deep imports are closed: only the public API is exported', async () => {
    const result = await execa(process.execPath, ['--input-type=module', '-e', "await import('kubelab/dist/src/lab/runner.js')"], { cwd: project, reject: false });
    expect(result.stderr).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });
});
