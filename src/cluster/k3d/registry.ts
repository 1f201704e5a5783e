import { waitForLog } from '../../docker/engine.js';
import { run, runAllowingFailure } from '../../util/exec.js';
import { freeLoopbackPort } from '../ports.js';
import type { NodeRegistry } from '../spec.js';

/**
 * kubelab's registry for k3d clusters, one per machine, made as k3d users make theirs (`k3d registry
 * create`): k3d connects it to each cluster that uses it and disconnects it when the cluster is
 * deleted, so it outlives clusters. Started on demand; `kubelab down --all` leaves it.
 */
const NAME = 'kubelab-registry';
/** k3d prefixes the container's name. */
export const K3D_REGISTRY_CONTAINER = `k3d-${NAME}`;

const registryAt = (port: string): NodeRegistry => ({ push: `127.0.0.1:${port}`, pullAs: `${K3D_REGISTRY_CONTAINER}:${port}` });

/** Its host port and whether it runs, from the labels k3d gave the container; undefined when there is none. */
async function existing(): Promise<{ port: string; running: boolean } | undefined> {
  const found = await runAllowingFailure('docker', ['inspect', '--format', '{{.State.Running}} {{index .Config.Labels "k3s.registry.port.external"}}', K3D_REGISTRY_CONTAINER]);
  if (found.exitCode !== 0) return undefined;
  const [running, port] = found.stdout.trim().split(' ');
  return { port: port!, running: running === 'true' };
}

/**
 * The machine's registry, running: found, started again, or created on a free loopback port (only
 * this machine reaches it; the clusters reach it on their own networks by its name).
 */
export async function ensureK3dRegistry(k3d: string, image: string, options: { signal?: AbortSignal; onLine?: (line: string) => void } = {}): Promise<NodeRegistry> {
  let found = await existing();
  if (!found) {
    const port = String(await freeLoopbackPort());
    const created = await runAllowingFailure(k3d, ['registry', 'create', NAME, '--image', image, '--port', `127.0.0.1:${port}`, '--no-help'], options);
    found = await existing();
    // Another run may have created it meanwhile: then use that one.
    if (!found) throw new Error(`k3d registry create ${NAME} exited with ${created.exitCode}: ${(created.stderr || created.stdout).trim().split('\n').pop()}`);
    options.onLine?.(`created registry ${K3D_REGISTRY_CONTAINER} on 127.0.0.1:${found.port}`);
  } else if (!found.running) {
    await run('docker', ['start', K3D_REGISTRY_CONTAINER], { signal: options.signal });
  }
  await waitForLog(K3D_REGISTRY_CONTAINER, /listening on/, { timeoutMs: 30_000, signal: options.signal });
  return registryAt(found.port);
}
