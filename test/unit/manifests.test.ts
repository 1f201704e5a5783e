import { describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { loadManifests, parseManifests } from '../../src/kube/manifests.js';
import { InputError } from '../../src/errors.js';
import { packageRoot } from '../../src/util/paths.js';

describe('manifest parsing', () => {
  test('reads multi-document YAML with the line of each document', () => {
    const text = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n# comment\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: a\n';
    const manifests = parseManifests(text, 'x.yaml');
    expect(manifests.map((m) => [m.kind, m.name, m.namespace, m.source])).toEqual([
      ['Namespace', 'a', undefined, 'x.yaml:1'],
      ['Service', 's', 'a', 'x.yaml:8'],
    ]);
  });
  test.each([
    ['apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n---\napiVersion: v1\nkind: Pod\nkind: Pod2\n', /bad.yaml:8: invalid YAML: Map keys must be unique/],
    ['kind: Pod\nmetadata:\n  name: p\n', /bad.yaml:1: field "apiVersion" is missing/],
    ['apiVersion: v1\nmetadata:\n  name: p\n', /field "kind" is missing/],
    ['apiVersion: v1\nkind: Pod\nmetadata: {}\n', /field "metadata.name" is missing \(Pod\)/],
    ['apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n---\n- a list\n', /bad.yaml:6: a manifest must be a mapping/],
    ['apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: 3\n', /metadata.namespace" must be a string/],
  ])('rejects %j with file, line and field', (text, message) => {
    expect(() => parseManifests(text, 'bad.yaml')).toThrow(InputError);
    expect(() => parseManifests(text, 'bad.yaml')).toThrow(message);
  });
  test('every lesson manifest folder parses', async () => {
    for (const lesson of ['lesson-1', 'lesson-2', 'lesson-3']) {
      const manifests = await loadManifests(join(packageRoot(), 'manifests', lesson));
      expect(manifests.length).toBeGreaterThan(0);
    }
  });
  test('a missing folder names the flag', async () => {
    await expect(loadManifests('/nonexistent/dir', '--manifests')).rejects.toThrow('--manifests: /nonexistent/dir does not exist');
  });
});
