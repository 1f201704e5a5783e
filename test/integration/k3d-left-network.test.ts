/**
 * A k3d cluster's network goes with it even when its nodes went first (a delete cut short by the
 * Docker daemon restarting removes the nodes; k3d then finds no cluster and leaves the network):
 * against the real dockerd and k3d, a left `k3d-NAME` network is removed by the provider's delete,
 * and one another container still uses is left alone.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { K3dProvider } from '../../src/cluster/k3d/provider.js';
import { PAUSE_IMAGE } from '../../src/forge/small-images.js';
import { forgeImages } from '../../src/forge/catalog.js';

const LEFT = 'kubelab-it-leftnet';
const BUSY = 'kubelab-it-busynet';
const USER = 'kubelab-it-busynet-user';

const networkExists = async (name: string) => (await execa('docker', ['network', 'inspect', name], { reject: false })).exitCode === 0;

afterAll(async () => {
  await execa('docker', ['rm', '--force', USER], { reject: false });
  for (const name of [LEFT, BUSY]) await execa('docker', ['network', 'rm', `k3d-${name}`], { reject: false });
});

describe("k3d delete removes the cluster's network k3d left", () => {
  test('a left network with nothing on it is removed', async () => {
    await execa('docker', ['network', 'create', '--label', 'app=k3d', `k3d-${LEFT}`]);
    await new K3dProvider().delete(LEFT);
    expect(await networkExists(`k3d-${LEFT}`)).toBe(false);
  }, 60_000);

  test('a network another container uses stays', async () => {
    await forgeImages([PAUSE_IMAGE], { signal: new AbortController().signal });
    await execa('docker', ['network', 'create', '--label', 'app=k3d', `k3d-${BUSY}`]);
    await execa('docker', ['run', '-d', '--name', USER, '--network', `k3d-${BUSY}`, PAUSE_IMAGE]);
    await new K3dProvider().delete(BUSY);
    expect(await networkExists(`k3d-${BUSY}`)).toBe(true);
  }, 120_000);
});
