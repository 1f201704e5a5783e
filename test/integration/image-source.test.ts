/**
 * Where an image comes from by --pull, against the real dockerd, on the small busybox helper (its
 * forge is a retag when its recipe image exists). This machine reaches no registry, so every pull
 * fails here, and that error must be what the forge line gives as its reason; the pull path itself
 * is proven through a registry mirror in test/cluster/pull-mirror.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { EnvironmentError } from '../../src/errors.js';
import { forgeImages } from '../../src/forge/catalog.js';
import { BUSYBOX_IMAGE } from '../../src/forge/small-images.js';
import { FORGED_KIND_IMAGE } from '../../src/cluster/kind/config.js';
import { imageNeed, obtainImages, plannedSource, type PullPolicy } from '../../src/images/image-source.js';
import { UPSTREAM_K3S_IMAGE, upstreamK3sCaveat } from '../../src/images/upstream-k3s.js';
import { hostHasSysResource } from '../../src/host/privileged.js';
import { setAside, type SetAside } from '../support/image-backup.js';

const MINUTE = 60_000;
let aside: SetAside | undefined;

beforeAll(async () => {
  await forgeImages([BUSYBOX_IMAGE]);
}, 10 * MINUTE);

afterAll(async () => {
  await aside?.restore();
}, MINUTE);

async function obtain(pull: PullPolicy): Promise<{ origin: string; lines: string[] }> {
  const lines: string[] = [];
  const [image] = await obtainImages([imageNeed(BUSYBOX_IMAGE)], 'the test', { pull, onLine: (line) => lines.push(line) });
  return { origin: image!.origin, lines };
}

describe('--pull for a forged image', () => {
  test('present: missing and never take the local image without pulling', async () => {
    for (const pull of ['missing', 'never'] as const) {
      const { origin, lines } = await obtain(pull);
      expect(origin).toBe('local');
      expect(lines.some((line) => line.startsWith('docker pull'))).toBe(false);
    }
    expect(await plannedSource(imageNeed(BUSYBOX_IMAGE), 'missing')).toBe(`local ${BUSYBOX_IMAGE}`);
  });

  test('always pulls first and, when the pull fails, uses the local image saying why', async () => {
    const { origin, lines } = await obtain('always');
    expect(origin).toBe('local');
    expect(lines).toContain(`docker pull ${BUSYBOX_IMAGE}`);
    expect(lines.join('\n')).toMatch(new RegExp(`using the local image \\(--pull always, but docker pull ${BUSYBOX_IMAGE.replace(/[.]/g, '\\.')}: .+\\)`));
  });

  test('absent: never forges without pulling; missing forges with the pull error as the reason', async () => {
    aside = await setAside([BUSYBOX_IMAGE]);
    expect(aside.names).toEqual([BUSYBOX_IMAGE]);
    expect(await plannedSource(imageNeed(BUSYBOX_IMAGE), 'never')).toBe('forged (not local)');
    const never = await obtain('never');
    expect(never.origin).toBe('forged');
    expect(never.lines).toContain(`${BUSYBOX_IMAGE}: forging it (not in the local store and --pull never)`);
    expect(never.lines.some((line) => line.startsWith('docker pull'))).toBe(false);
    expect(never.lines).toContain('images: 0 pulled, 0 local, 1 forged');

    await aside.restore();
    aside = await setAside([BUSYBOX_IMAGE]);
    expect(await plannedSource(imageNeed(BUSYBOX_IMAGE), 'missing')).toBe(`pulled (${BUSYBOX_IMAGE}), else forged`);
    const missing = await obtain('missing');
    expect(missing.origin).toBe('forged');
    expect(missing.lines.join('\n')).toMatch(new RegExp(`forging it \\(docker pull ${BUSYBOX_IMAGE.replace(/[.]/g, '\\.')}: .+\\)`));
  }, 10 * MINUTE);

  test('an image nothing has and nothing makes is an environment error naming it and the pull error', async () => {
    const need = imageNeed('kubelab-it/no-such-image:0');
    const failure = obtainImages([need], 'k3d cluster demo', { pull: 'missing' });
    await expect(failure).rejects.toBeInstanceOf(EnvironmentError);
    await expect(failure).rejects.toThrow(
      /^k3d cluster demo needs kubelab-it\/no-such-image:0 \(docker pull kubelab-it\/no-such-image:0: .+\), which is not in the local Docker image store, was not pulled and is not an image kubelab forges$/,
    );
  });

  test('the kind node image is never pulled, not even with --pull always (kindest/node cannot stand in for it)', async () => {
    await forgeImages([FORGED_KIND_IMAGE]);
    expect(imageNeed(FORGED_KIND_IMAGE).upstream).toEqual([]);
    expect(await plannedSource(imageNeed(FORGED_KIND_IMAGE), 'always')).toBe(`local ${FORGED_KIND_IMAGE}`);
    const lines: string[] = [];
    const [image] = await obtainImages([imageNeed(FORGED_KIND_IMAGE)], 'the test', { pull: 'always', onLine: (line) => lines.push(line) });
    expect(image!.origin).toBe('local');
    expect(lines).toEqual([`${FORGED_KIND_IMAGE}: local`, 'images: 0 pulled, 1 local, nothing forged']);
  }, 60 * MINUTE);

  test("rancher/k3s standing in for kubelab's build is noted with what this host loses", async () => {
    const cgroupV1 = (await execa('docker', ['info', '--format', '{{.CgroupVersion}}'])).stdout.trim() === '1';
    const note = await upstreamK3sCaveat(UPSTREAM_K3S_IMAGE);
    expect(note?.includes('CPU quotas off') ?? false).toBe(cgroupV1);
    expect(note?.includes('CAP_SYS_RESOURCE') ?? false).toBe(!hostHasSysResource());
    if (note) expect(note).toMatch(/--pull never forges kubelab\/k3s/);
  });
});
