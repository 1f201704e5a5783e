import { waitForLog } from '../docker/engine.js';
import { run, runAllowingFailure } from '../util/exec.js';
import { freeLoopbackPort } from './ports.js';
import type { NodeRegistry } from './spec.js';
import { withMachineLock } from '../util/machine-lock.js';

/** The network docker puts a container on when none is named: not a cluster's. */
const DOCKER_DEFAULT_NETWORK = 'bridge';

/**
 * kubelab's registry, one per machine for k3d and kind clusters alike, made as k3d users make theirs
 * (`k3d registry create`, so k3d needs no second kind of registry): k3d connects it to each k3d
 * cluster that uses it and disconnects it when that cluster is deleted; the kind provider joins it
 * to kubelab's kind network. What it stores outlives it, in a named volume: the container is started
 * on demand and retired when no cluster and no live run needs it, and the next one serves the same
 * images (pushes skipped). `kubelab down --registry` removes both.
 */
const NAME = 'kubelab-registry';
/** The CLI that makes it, whichever provider's clusters use it. */
export const MACHINE_REGISTRY_TOOL = 'k3d';
/** k3d prefixes the container's name. */
export const MACHINE_REGISTRY_CONTAINER = `k3d-${NAME}`;
/** The port it serves on inside the docker networks it joins. */
export const MACHINE_REGISTRY_INNER_PORT = 5000;
/** The named volume its images live in, kept between containers. */
export const MACHINE_REGISTRY_DATA = 'kubelab-registry-data';
/** Held while the container is made, found or retired, so that no run finds it just before another removes it. */
const LOCK = 'machine-registry';

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
export function ensureMachineRegistry(k3d: string, image: string, options: { signal?: AbortSignal; onLine?: (line: string) => void } = {}): Promise<NodeRegistry> {
  return withMachineLock(LOCK, () => startMachineRegistry(k3d, image, options), { signal: options.signal });
}

async function startMachineRegistry(k3d: string, image: string, options: { signal?: AbortSignal; onLine?: (line: string) => void }): Promise<NodeRegistry> {
  let found = await existing();
  if (!found) {
    const port = String(await freeLoopbackPort());
    const args = ['registry', 'create', NAME, '--image', image, '--port', `127.0.0.1:${port}`, '--volume', `${MACHINE_REGISTRY_DATA}:/var/lib/registry`, '--no-help'];
    const created = await runAllowingFailure(k3d, args, options);
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

/** The cluster networks the machine registry's container is on; undefined when there is no container. */
export async function machineRegistryNetworks(options: { signal?: AbortSignal } = {}): Promise<string[] | undefined> {
  const found = await runAllowingFailure('docker', ['inspect', '--format', '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}', MACHINE_REGISTRY_CONTAINER], options);
  return found.exitCode === 0 ? found.stdout.split(' ').filter((network) => network && network !== DOCKER_DEFAULT_NETWORK) : undefined;
}

/**
 * Removes the machine registry's container, keeping what it stored, unless a cluster network holds
 * it (a cluster pulls through it) or `neededElsewhere` says a live run may. Returns whether it did.
 */
export function retireMachineRegistry(neededElsewhere: () => Promise<boolean>, options: { signal?: AbortSignal } = {}): Promise<boolean> {
  return withMachineLock(
    LOCK,
    async () => {
      const clusterNetworks = await machineRegistryNetworks(options);
      if (!clusterNetworks || clusterNetworks.length > 0 || (await neededElsewhere())) return false;
      await run('docker', ['rm', '--force', MACHINE_REGISTRY_CONTAINER], { ...options, ownProcessGroup: true });
      return true;
    },
    { signal: options.signal },
  );
}

/**
 * Removes the machine registry and what it stored (its container, its volumes): `kubelab down
 * --registry`. Returns false when there was none. Clusters made through it can no longer pull.
 */
export function removeMachineRegistry(options: { signal?: AbortSignal } = {}): Promise<boolean> {
  return withMachineLock(
    LOCK,
    async () => {
      const found = await runAllowingFailure('docker', ['inspect', '--format', '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}', MACHINE_REGISTRY_CONTAINER], options);
      const volumes = found.exitCode === 0 ? found.stdout.split(' ').filter(Boolean) : [];
      if (found.exitCode === 0) await run('docker', ['rm', '--force', '--volumes', MACHINE_REGISTRY_CONTAINER], { ...options, ownProcessGroup: true });
      // The data volume outlives the containers: it may be there with none.
      if (!volumes.includes(MACHINE_REGISTRY_DATA)) volumes.push(MACHINE_REGISTRY_DATA);
      const removedVolumes = await runAllowingFailure('docker', ['volume', 'rm', ...volumes], { ...options, ownProcessGroup: true });
      return found.exitCode === 0 || removedVolumes.stdout.includes(MACHINE_REGISTRY_DATA);
    },
    { signal: options.signal },
  );
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
