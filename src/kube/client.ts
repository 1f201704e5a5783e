import { AppsV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { InputError } from '../errors.js';
import { apiGet } from './api-get.js';

/** Which cluster to talk to: a kubeconfig file and a context in it. */
export interface ClusterAccess {
  kubeconfig: string;
  context: string;
}

/** The API clients a lesson uses, all bound to one kubeconfig and context. */
export interface Kube {
  access: ClusterAccess;
  config: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  objects: KubernetesObjectApi;
}

export function connect(access: ClusterAccess): Kube {
  const config = new KubeConfig();
  config.loadFromFile(access.kubeconfig);
  if (!config.getContexts().some((c) => c.name === access.context)) {
    throw new InputError(`--context: "${access.context}" is not in ${access.kubeconfig}`);
  }
  config.setCurrentContext(access.context);
  return {
    access,
    config,
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    objects: KubernetesObjectApi.makeApiClient(config),
  };
}

/**
 * GET of an API path with the kubeconfig's credentials, for paths the typed clients lack
 * (discovery, lists for watches, node proxy). Rejects on a non-2xx status with the body in the message.
 */
export async function getRaw(config: KubeConfig, path: string): Promise<string> {
  const answer = await apiGet(config, path, { timeoutMs: 60_000 });
  if (answer.status >= 200 && answer.status < 300) return answer.body;
  throw Object.assign(new Error(`GET ${path}: HTTP ${answer.status}: ${answer.body.slice(0, 300)}`), { statusCode: answer.status });
}
