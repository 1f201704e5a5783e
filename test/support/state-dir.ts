import { afterAll, beforeAll } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A state dir of the test's own for the whole file (KUBELAB_HOME, which kubelab's state paths read
 * in this process and in the processes it starts), removed afterwards. Returns its path, once made.
 */
export function isolatedStateDir(prefix: string): () => string {
  let home = '';
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), prefix));
    process.env.KUBELAB_HOME = home;
  });
  afterAll(async () => {
    delete process.env.KUBELAB_HOME;
    await rm(home, { recursive: true, force: true });
  });
  return () => home;
}
