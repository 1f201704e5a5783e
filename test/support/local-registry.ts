import { execa } from 'execa';
import { MANAGED_LABEL, publishedPort, removeContainer, waitForLog } from '../../src/docker/engine.js';
import { forgeImages } from '../../src/forge/catalog.js';
import { REGISTRY_IMAGE } from '../../src/forge/registry-image.js';

/** A forged distribution registry (registry:2) in a container, published on a free 127.0.0.1 port. */
export interface LocalRegistry {
  container: string;
  /** `127.0.0.1:PORT`, as docker on this machine pushes to it (plain HTTP: docker's default for loopback). */
  hostPort: string;
  remove(): Promise<void>;
}

export async function startLocalRegistry(container: string, options: { network?: string } = {}): Promise<LocalRegistry> {
  await forgeImages([REGISTRY_IMAGE]);
  await execa('docker', [
    'run', '--detach', '--pull', 'never', '--name', container, '--label', `${MANAGED_LABEL}=true`,
    ...(options.network ? ['--network', options.network] : []),
    '--publish', '127.0.0.1::5000', REGISTRY_IMAGE,
  ]);
  await waitForLog(container, /listening on \[::\]:5000/, { timeoutMs: 30_000 });
  return { container, hostPort: `127.0.0.1:${await publishedPort(container, 5000)}`, remove: () => removeContainer(container) };
}
