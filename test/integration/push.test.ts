import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { freeLoopbackPort } from '../../src/cluster/ports.js';
import { removeImage, tagImage } from '../../src/docker/engine.js';
import { EnvironmentError } from '../../src/errors.js';
import { forgeImages } from '../../src/forge/catalog.js';
import { BUSYBOX_IMAGE } from '../../src/forge/small-images.js';
import { assertRegistryAnswers, pushImages } from '../../src/images/push.js';
import { startLocalRegistry, type LocalRegistry } from '../support/local-registry.js';

/** Pushing a lesson's images for a cluster kubelab did not make, into a real registry (forged registry:2) on loopback. */
const PROBE = `kubelab-it/push-probe:${process.pid}`;
let registry: LocalRegistry;

const localTags = async () => (await execa('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n');

beforeAll(async () => {
  await forgeImages([BUSYBOX_IMAGE]);
  await tagImage(BUSYBOX_IMAGE, PROBE);
  registry = await startLocalRegistry(`kubelab-it-push-${process.pid}`);
}, 10 * 60_000);

afterAll(async () => {
  await registry?.remove();
  await removeImage(PROBE);
});

describe('pushImages', () => {
  test('pushes under kubelab/ and returns a reference by the digest the registry serves', async () => {
    const lines: string[] = [];
    const pushed = await pushImages([PROBE], registry.hostPort, { onLine: (line) => lines.push(line) });
    const ref = pushed.get(PROBE)!;
    expect(ref).toMatch(new RegExp(`^${registry.hostPort.replace(/\./g, '\\.')}/kubelab/kubelab-it/push-probe@sha256:[0-9a-f]{64}$`));
    expect(lines.at(-1)).toBe(`${PROBE}: pushed as ${ref}`);
    // The registry has the manifest under that digest, and its bytes hash to it: the node gets exactly this image.
    const digest = ref.split('@')[1]!;
    const answer = await fetch(`http://${registry.hostPort}/v2/kubelab/kubelab-it/push-probe/manifests/${digest}`, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
    });
    expect(answer.status).toBe(200);
    expect(`sha256:${createHash('sha256').update(Buffer.from(await answer.arrayBuffer())).digest('hex')}`).toBe(digest);
  }, 120_000);

  test('leaves no tag of its own in the local image store', async () => {
    expect((await localTags()).filter((tag) => tag.startsWith(registry.hostPort))).toEqual([]);
  });

  test('an image that is not local fails naming it, and leaves no tag', async () => {
    await expect(pushImages(['kubelab-it/not-built:0'], registry.hostPort)).rejects.toThrow(/docker tag kubelab-it\/not-built:0 .*No such image/);
    expect((await localTags()).filter((tag) => tag.startsWith(registry.hostPort))).toEqual([]);
  });
});

describe('assertRegistryAnswers', () => {
  test('a registry on plain HTTP answers', async () => {
    await expect(assertRegistryAnswers(registry.hostPort)).resolves.toBeUndefined();
  });

  test('a port where nothing listens is an environment error naming the registry', async () => {
    const port = await freeLoopbackPort();
    const error = await assertRegistryAnswers(`127.0.0.1:${port}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as EnvironmentError).message).toBe(`--registry 127.0.0.1:${port} does not answer (GET /v2/ by https: ECONNREFUSED, http: ECONNREFUSED)`);
    expect((error as EnvironmentError).exitCode).toBe(3);
  });
});
