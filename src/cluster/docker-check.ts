import { EnvironmentError } from '../errors.js';
import { runAllowingFailure } from '../util/exec.js';

/** Throws EnvironmentError when the docker CLI is missing or its daemon does not answer. */
export async function assertDockerReachable(): Promise<void> {
  const info = await runAllowingFailure('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 20_000 });
  if (info.exitCode !== 0) {
    const reason = info.stderr.trim().split('\n').pop() ?? 'no answer';
    throw new EnvironmentError(`docker daemon is not reachable: ${reason}`, 'start dockerd, or run `kubelab doctor --fix`');
  }
}
