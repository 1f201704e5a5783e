/**
 * The forged registry (distribution v3.0.0 from its Go module) against the real dockerd: tagged as
 * k3d v5.9.0's `registry create` asks for it, it starts offline, answers /v2/ on loopback, and an
 * image pushed to it comes back by pull.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { addonImageStatus, ensureAddonImage, type AddonImage } from '../../src/forge/addons.js';
import { REGISTRY_IMAGE, registryImage } from '../../src/forge/registry-image.js';
import { PAUSE_IMAGE } from '../../src/forge/small-images.js';
import { forgeImages } from '../../src/forge/catalog.js';
import { MANAGED_LABEL, publishedPort, removeContainer, removeImage, waitForLog } from '../../src/docker/engine.js';
import { findTool } from '../../src/cluster/tools.js';

const MINUTE = 60_000;
const RUN = `kubelab-it-registry-${process.pid}`;
const K3D_REGISTRY = `kubelab-it-reg-${process.pid}`;
const underTest: AddonImage = { ...registryImage, name: 'it-registry', tag: `kubelab-it/registry:${process.pid}` };
const tagsMade: string[] = [underTest.tag];

afterAll(async () => {
  await removeContainer(RUN);
  const k3d = findTool('k3d');
  if (k3d) await execa(k3d, ['registry', 'delete', K3D_REGISTRY], { reject: false });
  await removeContainer(`k3d-${K3D_REGISTRY}`);
  for (const tag of tagsMade) {
    const id = (await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', tag], { reject: false })).stdout.trim();
    // The test tag's image is this run's own build; pushed and pulled tags only name existing images.
    if (tag === underTest.tag && id) await execa('docker', ['image', 'rm', '--force', id], { reject: false });
    else await removeImage(tag).catch(() => undefined);
  }
}, MINUTE);

/** k3d's own constants (pkg/types/images.go in the k3d module kubelab builds). */
async function k3dDefaultRegistryImage(): Promise<string> {
  const { stdout } = await execa('go', ['mod', 'download', '-json', 'github.com/k3d-io/k3d/v5@v5.9.0'], { env: { GOFLAGS: '-mod=mod' } });
  const source = await readFile(join((JSON.parse(stdout) as { Dir: string }).Dir, 'pkg', 'types', 'images.go'), 'utf8');
  const repo = /DefaultRegistryImageRepo = "([^"]+)"/.exec(source)?.[1];
  const tag = /DefaultRegistryImageTag = "([^"]+)"/.exec(source)?.[1];
  return `${repo}:${tag}`;
}

describe('forged registry image', () => {
  test('is tagged as the image k3d registry create runs', async () => {
    expect(`docker.io/library/${REGISTRY_IMAGE}`).toBe(await k3dDefaultRegistryImage());
  }, 5 * MINUTE);

  test('builds from github.com/distribution/distribution/v3, serves /v2/ on loopback and keeps what is pushed', async () => {
    const built = await ensureAddonImage(underTest, { force: true });
    expect(built.skipped).toBe(false);
    expect((await addonImageStatus(underTest)).present).toBe(true);
    const version = await execa('docker', ['run', '--rm', '--pull', 'never', '--network', 'none', underTest.tag, '--version']);
    expect(version.stdout).toMatch(/github\.com\/distribution\/distribution\/v3 v3\.0\.0/);

    await execa('docker', ['run', '--detach', '--pull', 'never', '--name', RUN, '--label', `${MANAGED_LABEL}=true`, '--publish', '127.0.0.1::5000', underTest.tag]);
    await waitForLog(RUN, /listening on \[::\]:5000/, { timeoutMs: 30_000 });
    const port = await publishedPort(RUN, 5000);
    const answer = await fetch(`http://127.0.0.1:${port}/v2/`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('docker-distribution-api-version')).toBe('registry/2.0');

    // A round trip through it: docker treats a 127.0.0.1 registry as insecure-allowed (plain HTTP).
    await forgeImages([PAUSE_IMAGE]);
    const remote = `127.0.0.1:${port}/kubelab-it/pause:${process.pid}`;
    tagsMade.push(remote);
    await execa('docker', ['tag', PAUSE_IMAGE, remote]);
    await execa('docker', ['push', remote]);
    await removeImage(remote);
    const pulled = await execa('docker', ['pull', remote]);
    expect(pulled.stdout).toMatch(/Downloaded newer image|Image is up to date/);
  }, 15 * MINUTE);

  test('k3d registry create runs it as it is (no pull) and it answers /v2/ on loopback', async () => {
    await forgeImages([REGISTRY_IMAGE]);
    const k3d = findTool('k3d');
    expect(k3d).toBeDefined();
    await execa(k3d!, ['registry', 'create', K3D_REGISTRY, '--port', '127.0.0.1:0']);
    const container = `k3d-${K3D_REGISTRY}`;
    // The forged image itself (k3d names it docker.io/library/registry:2, the same reference).
    const forgedId = (await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', REGISTRY_IMAGE])).stdout;
    expect((await execa('docker', ['inspect', '--format', '{{.Image}}', container])).stdout).toBe(forgedId);
    await waitForLog(container, /listening on \[::\]:5000/, { timeoutMs: 30_000 });
    const answer = await fetch(`http://127.0.0.1:${await publishedPort(container, 5000)}/v2/`);
    expect(answer.status).toBe(200);
  }, 15 * MINUTE);
});
