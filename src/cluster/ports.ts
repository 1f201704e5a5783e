import { createServer, type AddressInfo } from 'node:net';
import { EnvironmentError } from '../errors.js';

/** True when nothing listens on `port` (any address): the way docker will try to bind it. */
export function isPortFree(port: number, host = '0.0.0.0'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Refuses up front, before anything is created, when a port the cluster needs is taken. */
export async function assertPortsFree(ports: number[], owner: string): Promise<void> {
  for (const port of ports) {
    if (!(await isPortFree(port))) {
      throw new EnvironmentError(
        `port ${port} is already in use (needed by ${owner})`,
        `stop what listens on ${port} (ss -ltnp 'sport = :${port}') or delete the cluster using it (kubelab list)`,
      );
    }
  }
}

/** A loopback port nothing listens on now: one the kernel hands out for port 0, taken back at once. */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
