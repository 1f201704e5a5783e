import { waitForLog } from '../docker/engine.js';
import { run, runAllowingFailure } from '../util/exec.js';
import { freeLoopbackPort } from './ports.js';
import type { NodeRegistry } from './spec.js';

/**
 * kubelab's registry, one per machine for k3d and kind clusters alike, made as k3d users make theirs
 * (`k3d registry create`, so k3d needs no second kind of registry): k3d connects it to each k3d
 * cluster that uses it and disconnects it when that cluster is deleted; the kind provider joins it
 * to kubelab's kind network. It outlives clusters: started on demand, `kubelab down --all` leaves it.
 */
const NAME = 'kubelab-registry';
/** The CLI that makes it, whichever provider's clusters use it. */
export const MACHINE_REGISTRY_TOOL = 'k3d';
/** k3d prefixes the container's name. */
export const MACHINE_REGISTRY_CONTAINER = `k3d-${NAME}`;
/** The port it serves on inside the docker networks it joins. */
export const MACHINE_REGISTRY_INNER_PORT = 5000;

const registryAt = (port: string): NodeRegistry => ({ push: `127.0.0.1:${port}`, pullAs: `${MACHINE_REGISTRY_CONTAINER}:${port}` });

/** Its host port and whether it runs, from the labels k3d gave the container; undefined when there is none. */
async function existing(): Promise<{ port: string; running: boolean } | undefined> {
  const found = await runAllowingFailure('docker', ['inspect', '--format', '{{.State.Running}} {{index .Config.Labels "k3s.registry.port.external"}}', MACHINE_REGISTRY_CONTAINER]);
  if (found.exitCode !== 0) return undefined;
  const [running, port] = found.stdout.trim().split(' ');
  return { port: port!, running: running === 'true' };
}

/**
 * The machine's registry, running: found, started again, or created on a free loopback port (only
 * this machine reaches it; the clusters reach it on their own networks by its name).
 */
export async function ensureMachineRegistry(k3d: string, image: string, options: { signal?: AbortSignal; onLine?: (line: string) => void } = {}): Promise<NodeRegistry> {
  let found = await existing();
  if (!found) {
    const port = String(await freeLoopbackPort());
    const created = await runAllowingFailure(k3d, ['registry', 'create', NAME, '--image', image, '--port', `127.0.0.1:${port}`, '--no-help'], options);
    found = await existing();
    // Another run may have created it meanwhile: then use that one.
    if (!found) throw new Error(`k3d registry create ${NAME} exited with ${created.exitCode}: ${(created.stderr || created.stdout).trim().split('\n').pop()}`);
    options.onLine?.(`created registry ${MACHINE_REGISTRY_CONTAINER} on 127.0.0.1:${found.port}`);
  } else if (!found.running) {
    await run('docker', ['start', MACHINE_REGISTRY_CONTAINER], { signal: options.signal });
  }
  await waitForLog(MACHINE_REGISTRY_CONTAINER, /listening on/, { timeoutMs: 30_000, signal: options.signal });
  return registryAt(found.port);
}

/**
 * Removes the machine registry and what it stored (its container, its volumes): `kubelab down
 * --registry`. Returns false when there was none. Clusters made through it can no longer pull.
 */
export async function removeMachineRegistry(options: { signal?: AbortSignal } = {}): Promise<boolean> {
  const found = await runAllowingFailure('docker', ['inspect', '--format', '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}', MACHINE_REGISTRY_CONTAINER], options);
  if (found.exitCode !== 0) return false;
  await run('docker', ['rm', '--force', '--volumes', MACHINE_REGISTRY_CONTAINER], { ...options, ownProcessGroup: true });
  const volumes = found.stdout.split(' ').filter(Boolean);
  if (volumes.length > 0) await runAllowingFailure('docker', ['volume', 'rm', ...volumes], { ...options, ownProcessGroup: true });
  return true;
}

/** The names of the containers on a docker network; undefined when there is no such network. */
export async function networkMembers(network: string, options: { signal?: AbortSignal } = {}): Promise<string[] | undefined> {
  const inspected = await runAllowingFailure('docker', ['network', 'inspect', network, '--format', '{{range .Containers}}{{.Name}} {{end}}'], options);
  return inspected.exitCode === 0 ? inspected.stdout.split(' ').filter(Boolean) : undefined;
}

/**
 * Removes a cluster network unless a container other than the machine registry is on it (the
 * registry, which outlives clusters, is detached first). Returns whether it removed the network.
 */
export async function removeNetworkUnlessUsed(network: string): Promise<boolean> {
  const members = await networkMembers(network);
  if (!members || members.some((member) => member !== MACHINE_REGISTRY_CONTAINER)) return false;
  if (members.includes(MACHINE_REGISTRY_CONTAINER)) {
    await runAllowingFailure('docker', ['network', 'disconnect', '--force', network, MACHINE_REGISTRY_CONTAINER], { ownProcessGroup: true });
  }
  const removed = await runAllowingFailure('docker', ['network', 'rm', network], { ownProcessGroup: true });
  // Gone meanwhile, or joined meanwhile by a node of a cluster being made: either way not ours to remove.
  if (removed.exitCode !== 0 && !/not found|active endpoints/i.test(removed.stderr)) throw new Error(`docker network rm ${network}: ${removed.stderr.trim()}`);
  return removed.exitCode === 0;
}
