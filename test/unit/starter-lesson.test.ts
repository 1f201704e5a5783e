/**
 * The starter `kubelab new lesson` writes: a lesson importing only 'kubelab' whose assertions name
 * the objects its manifests make, and names that are refused before anything is written.
 */
import { describe, expect, test } from '@jest/globals';
import ts from 'typescript';
import { InputError } from '../../src/errors.js';
import { parseManifests } from '../../src/kube/manifests.js';
import { starterFiles, starterPaths, writeStarterLesson } from '../../src/lab/starter-lesson.js';

const files = starterFiles({ name: 'my-web', port: 8093 });
const lesson = files['my-web.ts']!;

function importSpecifiers(source: string): string[] {
  const file = ts.createSourceFile('lesson.ts', source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  return file.statements.filter(ts.isImportDeclaration).map((statement) => (statement.moduleSpecifier as ts.StringLiteral).text);
}

describe('the starter lesson', () => {
  test("NAME.ts beside manifests/NAME/, as the repository lays out labs/ and manifests/", () => {
    expect(starterPaths('my-web')).toEqual({ lesson: 'my-web.ts', manifests: 'manifests/my-web' });
    expect(Object.keys(files).sort()).toEqual(['manifests/my-web/configmap.yaml', 'manifests/my-web/deployment.yaml', 'manifests/my-web/ingress.yaml', 'manifests/my-web/service.yaml', 'my-web.ts']);
  });

  test("imports only 'kubelab', and only names the public API exports", async () => {
    expect(importSpecifiers(lesson)).toEqual(['kubelab']);
    const api = await import('../../src/index.js');
    const imported = /import \{([^}]+)\} from 'kubelab'/.exec(lesson)![1]!.split(',').map((name) => name.trim()).filter(Boolean);
    for (const name of imported) expect({ name, exported: name in api }).toEqual({ name, exported: true });
  });

  test('its manifests parse and make the objects its assertions and port name', () => {
    const objects = Object.entries(files)
      .filter(([path]) => path.endsWith('.yaml'))
      .flatMap(([path, text]) => parseManifests(text, path))
      .map((manifest) => `${manifest.kind}/${manifest.name}`);
    expect(objects.sort()).toEqual(['ConfigMap/my-web-page', 'Deployment/my-web', 'Ingress/my-web', 'Service/my-web']);
    expect(lesson).toContain("deploymentAvailable('my-web', 'app=my-web')");
    expect(lesson).toContain("ports: [{ hostPort: 8093, containerPort: 80, nodeFilter: 'loadbalancer' }]");
    expect(lesson).toContain("httpAnswers({ port: 8093, host: 'my-web.local', status: 200, body: 'hello from my-web' })");
    expect(files['manifests/my-web/configmap.yaml']).toContain('index.html: hello from my-web\n');
    expect(files['manifests/my-web/ingress.yaml']).toContain('- host: my-web.local\n');
  });

  test.each(['My-Web', 'my_web', '-web', 'web-', '', 'a'.repeat(33), '../web', 'web.ts'])('NAME %p is refused naming NAME, before any file is touched', async (name) => {
    // The folder does not exist and cannot be made: only the name check can be what refuses.
    const refusal = writeStarterLesson({ name, dir: '/proc/no-such-folder', port: 8093 });
    await expect(refusal).rejects.toThrow(InputError);
    await expect(refusal).rejects.toThrow(/^new lesson NAME: /);
  });
});
