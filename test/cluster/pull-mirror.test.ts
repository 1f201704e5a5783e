/**
 * The pull path for real, on this machine that reaches no registry: the forged registry (registry:2)
 * on 127.0.0.1 holds forged images under their upstream names and is made dockerd's Docker Hub
 * mirror; with the forged tags taken out of the local store (each kept under a backup tag, with
 * forge's content-addressed tags, so nothing needs re-forging), `kubelab run lesson-1` pulls its
 * node image and base through the mirror and forges nothing. Then --pull never, with nothing local
 * and the mirror holding it, forges the small busybox helper without pulling.
 *
 * dockerd's registry-mirrors serve Docker Hub names only: k3d's helpers (ghcr.io/k3d-io/...) stay
 * local here; where ghcr.io is reachable they are pulled the same way. While the forged tags are set
 * aside, another run on the same daemon would find only the pulled names (scripts/test.sh runs
 * cluster tests one at a time).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { execa } from 'execa';
import { FORGED_K3S_IMAGE } from '../../src/cluster/k3d/config.js';
import { removeContainer, removeImage } from '../../src/docker/engine.js';
import { forgeImages } from '../../src/forge/catalog.js';
import { BUSYBOX_IMAGE } from '../../src/forge/small-images.js';
import { COURSE_BASE_IMAGE, pythonBaseTag } from '../../src/images/base.js';
import { imageNeed, obtainImages, type PullPolicy } from '../../src/images/image-source.js';
import { UPSTREAM_K3S_IMAGE } from '../../src/images/upstream-k3s.js';
import { packageRoot } from '../../src/util/paths.js';
import { setAside, type SetAside } from '../support/image-backup.js';
import { startLocalRegistry } from '../support/local-registry.js';
import { useRegistryMirror, type DockerMirror } from '../support/registry-mirror.js';

const MINUTE = 60_000;
const REGISTRY = `kubelab-it-mirror-${process.pid}`;
const CLUSTER = 'kubelab-pull-mirror';
const cli = join(packageRoot(), 'bin', 'kubelab.js');

/** Forged image -> the Docker Hub name the mirror serves it under. */
const SERVED: ReadonlyArray<[forged: string, upstream: string]> = [
  [FORGED_K3S_IMAGE, UPSTREAM_K3S_IMAGE],
  [pythonBaseTag(), COURSE_BASE_IMAGE],
  [BUSYBOX_IMAGE, BUSYBOX_IMAGE],
];

let mirror: DockerMirror | undefined;
let aside: SetAside | undefined;

/** Every step runs even when one before it failed; the first failure is thrown at the end. */
async function cleanUp(): Promise<void> {
  const steps = [
    () => execa(process.execPath, [cli, 'down', 'lesson-1', '--name', CLUSTER], { reject: false, env: { CI: 'true' } }),
    () => aside?.restore(),
    () => mirror?.restore(),
    () => removeContainer(REGISTRY),
  ];
  const failures: unknown[] = [];
  for (const step of steps) await Promise.resolve(step()).catch((error: unknown) => failures.push(error));
  aside = undefined;
  mirror = undefined;
  if (failures.length > 0) throw failures[0];
}

// Ctrl-C or a kill of the test run: daemon.json and the image tags are put back before exiting.
const onSignal = (signal: NodeJS.Signals) => void cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));

beforeAll(async () => {
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  await forgeImages(SERVED.map(([forged]) => forged));
  const { hostPort } = await startLocalRegistry(REGISTRY);
  for (const [forged, upstream] of SERVED) {
    // Docker Hub's "rancher/k3s" is "rancher/k3s" in the mirror; official images live under library/.
    const remote = `${hostPort}/${upstream.includes('/') ? upstream : `library/${upstream}`}`;
    await execa('docker', ['tag', forged, remote]);
    await execa('docker', ['push', remote]);
    await removeImage(remote);
  }
  mirror = await useRegistryMirror(hostPort);
}, 20 * MINUTE);

afterAll(async () => {
  process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  await cleanUp();
}, 10 * MINUTE);

async function obtainBusybox(pull: PullPolicy): Promise<{ origin: string; lines: string[] }> {
  const lines: string[] = [];
  const [image] = await obtainImages([imageNeed(BUSYBOX_IMAGE)], 'the test', { pull, onLine: (line) => lines.push(line) });
  return { origin: image!.origin, lines };
}

describe('pulling through a registry mirror of forged images', () => {
  test('run lesson-1 with its node image and base only in the mirror pulls them and forges nothing', async () => {
    aside = await setAside(SERVED.flatMap(([forged, upstream]) => [forged, upstream]).filter((name) => name !== BUSYBOX_IMAGE));
    expect(aside.names).toEqual(expect.arrayContaining([FORGED_K3S_IMAGE, pythonBaseTag()]));
    const started = performance.now();
    const result = await execa(process.execPath, [cli, 'run', 'lesson-1', '--name', CLUSTER], { reject: false, all: true, env: { CI: 'true' } });
    console.log(`kubelab run lesson-1 through the mirror: exit ${result.exitCode} in ${((performance.now() - started) / 1000).toFixed(1)} s\n${result.all}`);
    const lines = String(result.all).split('\n');
    expect(lines).toEqual(expect.arrayContaining([`› ${UPSTREAM_K3S_IMAGE}: pulled`, `› ${COURSE_BASE_IMAGE}: pulled`]));
    expect(lines.filter((line) => line.includes('forging'))).toEqual([]);
    const summaries = lines.filter((line) => /› images: /.test(line));
    expect(summaries.length).toBe(2); // the cluster's (node images, registry:2, the add-ons), the lesson's
    for (const summary of summaries) expect(summary).toMatch(/nothing forged$/);
    expect(result.exitCode).toBe(0);
    await aside.restore();
    aside = undefined;
  }, 30 * MINUTE);

  test('--pull never with nothing local forges although the mirror has the image; missing pulls it', async () => {
    aside = await setAside([BUSYBOX_IMAGE]);
    const never = await obtainBusybox('never');
    expect(never.origin).toBe('forged');
    expect(never.lines).toContain(`${BUSYBOX_IMAGE}: forging it (not in the local store and --pull never)`);
    expect(never.lines.filter((line) => line.startsWith('docker pull'))).toEqual([]);

    await aside.restore();
    aside = await setAside([BUSYBOX_IMAGE]);
    const missing = await obtainBusybox('missing');
    expect(missing.origin).toBe('pulled');
    expect(missing.lines).toEqual(expect.arrayContaining([`docker pull ${BUSYBOX_IMAGE}`, 'images: 1 pulled, 0 local, nothing forged']));
  }, 10 * MINUTE);
});
