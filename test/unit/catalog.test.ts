import { describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { lessonIds, loadLesson } from '../../src/lab/catalog.js';
import { InputError } from '../../src/errors.js';
import { packageRoot } from '../../src/util/paths.js';
import { forgeItems } from '../../src/forge/catalog.js';

describe('lesson catalog', () => {
  test('finds the course lessons', async () => {
    expect(await lessonIds()).toEqual(expect.arrayContaining(['lesson-1', 'lesson-2', 'lesson-3']));
  });
  test('an unknown lesson is an InputError listing the known ones', async () => {
    await expect(loadLesson('lesson-42')).rejects.toThrow(InputError);
    // With a slash it names a lesson file: one that is not there is bad input too.
    await expect(loadLesson('../package')).rejects.toThrow(/lesson file \.\.\/package does not exist/);
  });
  test.each(['lesson-1', 'lesson-2', 'lesson-3'])('%s is coherent: manifests and apps exist, names are unique', async (id) => {
    const lesson = await loadLesson(id);
    expect(lesson.id).toBe(id);
    expect(existsSync(join(packageRoot(), 'manifests', lesson.manifests))).toBe(true);
    for (const image of lesson.images.filter((i) => i.app !== 'nginx')) expect(existsSync(join(packageRoot(), 'apps', image.app, 'Dockerfile'))).toBe(true);
    const names = lesson.assertions.map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
    expect(lesson.assertions.length).toBeGreaterThan(0);
  });
  test('the course topology: 1 server, 3 agents, 8081 to the load balancer', async () => {
    const lesson = await loadLesson('lesson-1');
    expect(lesson.cluster).toMatchObject({ name: 'yadoc-exposed', servers: 1, agents: 3, ports: [{ hostPort: 8081, containerPort: 80, nodeFilter: 'loadbalancer' }] });
    expect((await loadLesson('lesson-3')).cluster).toMatchObject({ name: 'yadoc-api-exposed', apiPort: 6550 });
  });
});

describe('what forge items are made from', () => {
  test('every location a node image needs is made by a forge item listed before it', () => {
    const items = forgeItems();
    for (const [index, item] of items.entries()) {
      for (const need of item.needs ?? []) {
        const maker = items.findIndex((other) => other.location === need);
        expect({ item: item.name, need, made: maker >= 0 && maker < index }).toEqual({ item: item.name, need, made: true });
      }
    }
    expect(items.find((item) => item.name === 'kind node image')?.needs).toHaveLength(12);
    expect(items.find((item) => item.name === 'k3s node image')?.needs).toHaveLength(7);
  });
});
