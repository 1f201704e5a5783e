/**
 * A kind cluster deleted outside kubelab (`kind delete cluster`) leaves kubelab's kind network behind,
 * holding the machine registry (kind never removes a network; kubelab's own delete would have). `kubelab
 * gc` removes both, says so, and exits 0; a registry it cannot remove is an error, never "removed".
 * The state is made for real without a cluster: the registry started by kubelab's own code, the
 * network created and joined as kind's create and kubelab's useRegistry do.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { providerFor } from '../../src/cluster/registry.js';
import { ensureMachineRegistry, MACHINE_REGISTRY_CONTAINER, MACHINE_REGISTRY_TOOL } from '../../src/cluster/machine-registry.js';
import { requireTool } from '../../src/cluster/tools.js';
import { REGISTRY_IMAGE } from '../../src/forge/registry-image.js';
import { forgeImages } from '../../src/forge/catalog.js';
import { packageRoot } from '../../src/util/paths.js';
import { registryContainerExists } from '../support/leftovers.js';

const cli = join(packageRoot(), 'bin', 'kubelab.js');
const network = providerFor('kind').network('any');
const bystander = 'kubelab-gc-bystander';
let home: string;

const kubelab = (args: string[]) => execa(process.execPath, [cli, ...args], { reject: false, env: { CI: 'true', KUBELAB_HOME: home, TMPDIR: home } });
const networkExists = async () => (await execa('docker', ['network', 'inspect', network], { reject: false })).exitCode === 0;

/** What kind's create and kubelab's registry wiring leave once the cluster's nodes are gone. */
async function orphanedRegistryNetwork(): Promise<void> {
  await ensureMachineRegistry(requireTool(MACHINE_REGISTRY_TOOL, 'kubelab forge k3d'), REGISTRY_IMAGE);
  if (!(await networkExists())) await execa('docker', ['network', 'create', network]);
  const joined = await execa('docker', ['network', 'connect', network, MACHINE_REGISTRY_CONTAINER], { reject: false });
  if (joined.exitCode !== 0) expect(joined.stderr).toMatch(/already exists/); // kept there by the case before
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'kubelab-gc-registry-'));
  await forgeImages([REGISTRY_IMAGE], { signal: new AbortController().signal, onLine: () => {} });
  expect(await providerFor('kind').list()).toEqual([]);
}, 10 * 60_000);

afterAll(async () => {
  await execa('docker', ['rm', '--force', bystander], { reject: false });
  await execa('docker', ['network', 'disconnect', '--force', network, MACHINE_REGISTRY_CONTAINER], { reject: false });
  await execa('docker', ['network', 'rm', network], { reject: false });
  await rm(home, { recursive: true, force: true });
});

describe('kubelab gc and the registry left on a cluster network without a cluster', () => {
  test('a stranger on the network keeps both, and gc fails saying why', async () => {
    await orphanedRegistryNetwork();
    await execa('docker', ['create', '--name', bystander, '--network', network, REGISTRY_IMAGE]);
    await execa('docker', ['start', bystander]);
    const gc = await kubelab(['gc']);
    expect(gc.stderr).toContain(`could not remove registry container ${MACHINE_REGISTRY_CONTAINER} (no cluster or run needs it; its images kept) and network ${network}`);
    expect(gc.stderr).toContain(`kept: still on ${network}, where other containers are`);
    expect(gc.stdout).not.toContain('removed registry container');
    expect(gc.exitCode).toBe(4);
    expect(await registryContainerExists()).toBe(true);
    await execa('docker', ['rm', '--force', bystander]);
  }, 120_000);

  test('alone there, gc removes the network and the registry container, then finds nothing', async () => {
    await orphanedRegistryNetwork();
    const gc = await kubelab(['gc']);
    expect(gc.stdout).toContain(`removed registry container ${MACHINE_REGISTRY_CONTAINER} (no cluster or run needs it; its images kept) and network ${network} (no cluster left on it)`);
    expect(gc.exitCode).toBe(0);
    expect(await registryContainerExists()).toBe(false);
    expect(await networkExists()).toBe(false);
    expect((await kubelab(['gc'])).stdout).toBe('nothing left behind');
  }, 120_000);
});
