import { EnvironmentError } from '../errors.js';
import { apiGet, ApiUnreachableError } from './api-get.js';
import type { Kube } from './client.js';

export interface ApiVersion {
  server: string;
  gitVersion: string;
  platform: string;
}

/**
 * GET /version: the one check that the cluster answers at all and accepts these credentials. An
 * unreachable or refusing API server is one environment error (exit 3) that names the server and
 * the kubeconfig, instead of every later request failing on its own.
 */
export async function apiServerVersion(kube: Kube, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ApiVersion> {
  const server = kube.config.getCurrentCluster()?.server ?? '';
  const where = `context ${kube.access.context} in ${kube.access.kubeconfig}`;
  let answer;
  try {
    answer = await apiGet(kube.config, '/version', { timeoutMs: options.timeoutMs ?? 10_000, signal: options.signal });
  } catch (error) {
    if (!(error instanceof ApiUnreachableError)) throw error;
    throw new EnvironmentError(
      `cannot reach the API server ${server} (${where}): ${(error.cause as Error).message}`,
      "is the cluster running? `kubelab list` shows kubelab's clusters; `docker ps` their containers",
    );
  }
  if (answer.status === 401 || answer.status === 403) {
    throw new EnvironmentError(`the API server ${server} refused the credentials of ${where}: HTTP ${answer.status}`);
  }
  if (answer.status !== 200) throw new Error(`GET /version on ${server}: HTTP ${answer.status}: ${answer.body.slice(0, 200)}`);
  const version = JSON.parse(answer.body) as { gitVersion?: string; platform?: string };
  return { server, gitVersion: version.gitVersion ?? '', platform: version.platform ?? '' };
}
