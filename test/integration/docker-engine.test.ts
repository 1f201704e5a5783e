/** The docker wrapper against the real dockerd. */
import { describe, expect, test } from '@jest/globals';
import { assertDockerAvailable, imageExists, inspectImage } from '../../src/docker/engine.js';
import { ensurePythonBase } from '../../src/images/base.js';

describe('local image store', () => {
  test('a present image is found with its id; a missing one is not', async () => {
    await assertDockerAvailable();
    const base = await ensurePythonBase();
    expect(await imageExists(base.tag)).toBe(true);
    expect((await inspectImage(base.tag))?.id).toBe(base.imageId);
    expect(await imageExists('kubelab-it/never-built:0')).toBe(false);
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
