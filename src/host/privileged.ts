import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { run, runAllowingFailure } from '../util/exec.js';
import { packageRoot } from '../util/paths.js';

/**
 * On some hosts (containers, restricted VMs) the capability bounding set lacks CAP_SYS_RESOURCE.
 * Docker gives a privileged container every capability it knows, so runc fails with "unable to
 * apply caps" and neither k3d nor kind can start a node. The fix is a runc wrapper, registered as
 * dockerd's default runtime, that drops that one capability. Never applied without `doctor --fix`.
 */

const CAP_SYS_RESOURCE = 24;
export const WRAPPER_PATH = '/usr/local/lib/kubelab/runc-nosysresource';
export const WRAPPER_RUNTIME = 'kubelab-runc';
const DAEMON_JSON = '/etc/docker/daemon.json';
const PROBE_IMAGE = 'kubelab/probe:empty';

/** Whether this process may hold CAP_SYS_RESOURCE at all (bit 24 of CapBnd). */
export function hostHasSysResource(status = readFileSync('/proc/self/status', 'utf8')): boolean {
  const hex = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return hex === undefined || (BigInt(`0x${hex}`) & (1n << BigInt(CAP_SYS_RESOURCE))) !== 0n;
}

/** An image with nothing in it: enough to see whether runc gets as far as exec. */
async function ensureProbeImage(): Promise<void> {
  const present = await runAllowingFailure('docker', ['image', 'inspect', PROBE_IMAGE]);
  if (present.exitCode === 0) return;
  // An empty tar archive is 10 KiB of zeros.
  await run('docker', ['import', '-', PROBE_IMAGE], { input: '\0'.repeat(10240) });
}

/** Starts a privileged container; returns undefined when it gets past capability setup, else the error. */
export async function privilegedContainerProblem(): Promise<string | undefined> {
  await ensureProbeImage();
  const result = await runAllowingFailure('docker', ['run', '--rm', '--privileged', '--network', 'none', PROBE_IMAGE, '/kubelab-probe'], { timeoutMs: 60_000 });
  const output = `${result.stderr}\n${result.stdout}`;
  // The probe binary does not exist: failing on exec means capabilities were applied.
  if (/unable to apply caps|operation not permitted/.test(output) && !/no such file|not found/.test(output)) {
    return output.trim().split('\n')[0] ?? 'privileged containers fail';
  }
  return undefined;
}

function wrapperSource(realRunc: string): string {
  const template = readFileSync(join(packageRoot(), 'src', 'host', 'runc-wrapper.py'), 'utf8');
  return template.replace('@REAL_RUNC@', realRunc);
}

/** Installs the wrapper, makes it dockerd's default runtime, and reloads dockerd (SIGHUP). */
export async function installRuncWrapper(log: (line: string) => void): Promise<void> {
  if (process.getuid?.() !== 0) throw new EnvironmentError('installing the runc wrapper needs root', 'sudo kubelab doctor --fix');
  const realRunc = (await run('sh', ['-c', 'command -v runc'])).stdout.trim();
  if (!realRunc) throw new EnvironmentError('runc is not installed', 'apt-get install runc');
  await mkdir(dirname(WRAPPER_PATH), { recursive: true });
  await writeFile(WRAPPER_PATH, wrapperSource(realRunc), { mode: 0o755 });
  const config = JSON.parse(await readFile(DAEMON_JSON, 'utf8').catch(() => '{}')) as Record<string, unknown>;
  config.runtimes = { ...(config.runtimes as object | undefined), [WRAPPER_RUNTIME]: { path: WRAPPER_PATH } };
  config['default-runtime'] = WRAPPER_RUNTIME;
  await mkdir(dirname(DAEMON_JSON), { recursive: true });
  await writeFile(DAEMON_JSON, `${JSON.stringify(config, null, 2)}\n`);
  // runtimes and default-runtime are among the settings dockerd reloads on SIGHUP.
  await run('pkill', ['-HUP', '-x', 'dockerd']);
  // The reload is asynchronous; dockerd reports its default runtime once it has applied it.
  const deadline = Date.now() + 30_000;
  while ((await run('docker', ['info', '--format', '{{.DefaultRuntime}}'])).stdout.trim() !== WRAPPER_RUNTIME) {
    if (Date.now() > deadline) throw new EnvironmentError(`dockerd did not switch to ${WRAPPER_RUNTIME} after SIGHUP`, `restart dockerd; ${DAEMON_JSON} is written`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  log(`runc wrapper ${WRAPPER_PATH} is dockerd's default runtime (${DAEMON_JSON}); it drops CAP_SYS_RESOURCE`);
}
