/** The docker wrapper against the real dockerd: the offline preflight that names missing images. */
import { describe, expect, test } from '@jest/globals';
import { EnvironmentError } from '../../src/errors.js';
import { assertDockerAvailable, assertImagesPresent, imageExists, inspectImage } from '../../src/docker/engine.js';
import { ensurePythonBase } from '../../src/images/base.js';

describe('local image store', () => {
  test('a present image passes; a missing one is named with the remedy', async () => {
    await assertDockerAvailable();
    const base = await ensurePythonBase();
    expect(await imageExists(base.tag)).toBe(true);
    expect((await inspectImage(base.tag))?.id).toBe(base.imageId);
    await expect(assertImagesPresent([base.tag], 'test cluster')).resolves.toBeUndefined();

    const missing = 'kubelab-it/never-built:0';
    const failure = assertImagesPresent([base.tag, missing], 'k3d cluster demo');
    await expect(failure).rejects.toBeInstanceOf(EnvironmentError);
    await expect(assertImagesPresent([base.tag, missing], 'k3d cluster demo')).rejects.toThrow(
      `k3d cluster demo needs ${missing}, not in the local Docker image store (kubelab never pulls)`,
    );
  }, 15 * 60_000);
});
