/**
 * `kubelab doctor --fix` for real, on this host's dockerd. Where the host cannot grant
 * CAP_SYS_RESOURCE, privileged containers (every k3d and kind node) need kubelab's runc wrapper as
 * dockerd's default runtime: with dockerd back on plain runc and the wrapper's file emptied, `doctor`
 * must name the failure and its fix, and `doctor --fix` must install the wrapper again, after which privileged
 * containers start. Where the host grants it, doctor finds them starting without any wrapper. The
 * original configuration and wrapper are put back whatever happens. A cluster test: while dockerd
 * runs without the wrapper, no node can start, so nothing else may run beside it.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { hostHasSysResource, privilegedContainerProblem, WRAPPER_PATH, WRAPPER_RUNTIME } from '../../src/host/privileged.js';
import { packageRoot } from '../../src/util/paths.js';

const DAEMON_JSON = '/etc/docker/daemon.json';
const cli = join(packageRoot(), 'bin', 'kubelab.js');
const MINUTE = 60_000;
let savedConfig: string | undefined;
let savedWrapper: string | undefined;

function kubelab(args: string[]) {
  return execa(process.execPath, [cli, ...args], { reject: false, env: { CI: 'true' }, all: true });
}

/** Makes this host's dockerd (not any other on the machine) reload daemon.json and waits until it runs `runtime` by default. */
async function reloadDockerd(runtime: string): Promise<void> {
  const pid = (await readFile('/var/run/docker.pid', 'utf8')).trim();
  await execa('kill', ['-HUP', pid]);
  const deadline = Date.now() + 30_000;
  while ((await execa('docker', ['info', '--format', '{{.DefaultRuntime}}'])).stdout.trim() !== runtime) {
    if (Date.now() > deadline) throw new Error(`dockerd did not switch its default runtime to ${runtime} within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The default runtime a daemon.json text names (dockerd's own default is runc). */
const defaultRuntimeOf = (config: string | undefined) => ((config ? JSON.parse(config) : {}) as { 'default-runtime'?: string })['default-runtime'] ?? 'runc';

beforeAll(async () => {
  savedConfig = existsSync(DAEMON_JSON) ? await readFile(DAEMON_JSON, 'utf8') : undefined;
  savedWrapper = existsSync(WRAPPER_PATH) ? await readFile(WRAPPER_PATH, 'utf8') : undefined;
  // dockerd back on plain runc, and the wrapper's file without the wrapper in it: only a real
  // installation makes privileged containers start again. The runtime entry itself stays: dockerd
  // 20.10 crashes reloading a configuration that drops the runtime it runs by default.
  const config = JSON.parse(savedConfig ?? '{}') as Record<string, unknown>;
  await writeFile(DAEMON_JSON, `${JSON.stringify({ ...config, 'default-runtime': 'runc' }, null, 2)}\n`);
  await reloadDockerd('runc');
  if (savedWrapper !== undefined) await writeFile(WRAPPER_PATH, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
}, MINUTE);

afterAll(async () => {
  if (savedWrapper !== undefined) await writeFile(WRAPPER_PATH, savedWrapper, { mode: 0o755 });
  if (savedConfig !== undefined) await writeFile(DAEMON_JSON, savedConfig);
  else await rm(DAEMON_JSON, { force: true });
  await reloadDockerd(defaultRuntimeOf(savedConfig));
}, MINUTE);

describe('kubelab doctor --fix', () => {
  test('names privileged containers failing without the runc wrapper, installs it, and then they start', async () => {
    const needsWrapper = !hostHasSysResource();
    const before = await kubelab(['doctor']);
    console.log(before.all);
    if (needsWrapper) {
      expect(before.exitCode).toBe(3);
      expect(before.stdout).toMatch(/FAIL {2}privileged containers .*\n\s+fix: kubelab doctor --fix installs a runc wrapper that drops CAP_SYS_RESOURCE/);
    } else {
      expect(before.stdout).toMatch(/^ ok {3}privileged containers {2}start$/m);
    }

    const fixed = await kubelab(['doctor', '--fix']);
    console.log(fixed.all);
    expect(fixed.exitCode).toBe(0);
    expect(await privilegedContainerProblem()).toBeUndefined();
    if (needsWrapper) {
      expect(fixed.stdout).toContain(`runc wrapper ${WRAPPER_PATH} is dockerd's default runtime (${DAEMON_JSON}); it drops CAP_SYS_RESOURCE`);
      expect(fixed.stdout).toMatch(/^ ok {3}privileged containers {2}start \(through \S+runc-nosysresource: this host lacks CAP_SYS_RESOURCE\)$/m);
      expect((await execa('docker', ['info', '--format', '{{.DefaultRuntime}}'])).stdout.trim()).toBe(WRAPPER_RUNTIME);
      expect(await readFile(WRAPPER_PATH, 'utf8')).toContain('DROP = "CAP_SYS_RESOURCE"');
    } else {
      expect((await execa('docker', ['info', '--format', '{{.DefaultRuntime}}'])).stdout.trim()).toBe('runc');
    }
  }, 10 * MINUTE);
});
