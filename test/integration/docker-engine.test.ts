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

describe('privileged containers (k3d and kind nodes are privileged)', () => {
  test('start on this host, through the runc wrapper where the host lacks CAP_SYS_RESOURCE', async () => {
    const { privilegedContainerProblem, hostHasSysResource, WRAPPER_PATH } = await import('../../src/host/privileged.js');
    expect(await privilegedContainerProblem()).toBeUndefined();
    if (!hostHasSysResource()) {
      const { execa } = await import('execa');
      const { stdout } = await execa('docker', ['info', '--format', '{{.DefaultRuntime}}']);
      expect(stdout.trim()).toBe('kubelab-runc');
      // The wrapper really dropped the capability: bit 24 is clear inside a privileged container.
      const base = await ensurePythonBase();
      const status = await execa('docker', ['run', '--rm', '--privileged', base.tag, 'grep', 'CapEff', '/proc/self/status']);
      const effective = BigInt(`0x${status.stdout.split(/\s+/)[1]}`);
      expect(effective & (1n << 24n)).toBe(0n);
      expect(WRAPPER_PATH).toMatch(/^\/usr\/local\/lib\/kubelab\//);
    }
  }, 5 * 60_000);
});
