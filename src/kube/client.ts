import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { AppsV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { InputError } from '../errors.js';

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
 * (discovery, /readyz, node proxy). Rejects on a non-2xx status with the body in the message.
 */
export async function getRaw(config: KubeConfig, path: string): Promise<string> {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(path, cluster.server);
  const options: Parameters<typeof request>[1] = { method: 'GET', headers: { accept: 'application/json' } };
  await config.applyToHTTPSOptions(options);
  const send = url.protocol === 'https:' ? request : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) resolve(body);
        else reject(Object.assign(new Error(`GET ${path}: HTTP ${res.statusCode}: ${body.slice(0, 300)}`), { statusCode: res.statusCode }));
      });
    });
    req.on('error', reject);
    req.end();
  });
}
