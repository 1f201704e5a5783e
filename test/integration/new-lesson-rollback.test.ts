/**
 * `kubelab new lesson` leaves nothing half-written: when a write fails after the checks passed (a
 * full disk, here one failing writeFile), what it had written and the folders it made are removed.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const realFs = await import('node:fs/promises');
let writes = 0;
jest.unstable_mockModule('node:fs/promises', () => ({
  ...realFs,
  writeFile: async (...args: Parameters<typeof realFs.writeFile>) => {
    writes += 1;
    if (writes === 3) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    return realFs.writeFile(...args);
  },
}));
const { writeStarterLesson } = await import('../../src/lab/starter-lesson.js');

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'kubelab-it-new-lesson-rollback-'));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('a write failing half-way', () => {
  test('removes the files written before it and the folders made for them, and fails with its error', async () => {
    await expect(writeStarterLesson({ name: 'my-web', dir: join(folder, 'lessons', 'mine'), port: 8093 })).rejects.toThrow(/ENOSPC/);
    expect(writes).toBe(3);
    expect(await readdir(folder)).toEqual([]);
  });

  test('into a folder that existed, keeps the folder and what was in it', async () => {
    writes = 0;
    await realFs.mkdir(join(folder, 'mine', 'manifests'), { recursive: true });
    await realFs.writeFile(join(folder, 'mine', 'manifests', 'other.yaml'), 'kind: ConfigMap\n');
    await expect(writeStarterLesson({ name: 'my-web', dir: join(folder, 'mine'), port: 8093 })).rejects.toThrow(/ENOSPC/);
    expect(await readdir(join(folder, 'mine'), { recursive: true })).toEqual(['manifests', 'manifests/other.yaml']);
  });
});
