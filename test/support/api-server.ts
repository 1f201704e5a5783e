/**
 * A real Kubernetes API server for tests of the kube layer: the forged k3s binary run as
 * `k3s server --disable-agent` (API server, controllers and kine/SQLite, no kubelet) on a free
 * loopback port, with its own data dir. Ready in seconds; removed by stop().
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';

export interface ApiServer {
  kubeconfig: string;
  context: string;
  /** Stops it and removes its data. */
  stop(): Promise<void>;
  /** Stops the process only (the API server goes away); `restart` brings it back. */
  halt(): Promise<void>;
  restart(): Promise<void>;
}

async function listenOn(port: number): Promise<ReturnType<typeof createServer> | undefined> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * A loopback port P with P+1 free too: k3s serves its supervisor on the --https-listen-port and the
 * API server itself on the port after it (CI saw a k3s exit binding P+1, which something else held).
 */
async function freePortPair(): Promise<number> {
  for (;;) {
    const first = (await listenOn(0))!;
    const { port } = first.address() as { port: number };
    const second = await listenOn(port + 1);
    await new Promise((resolve) => first.close(resolve));
    if (second) {
      await new Promise((resolve) => second.close(resolve));
      return port;
    }
  }
}

/** The k3s binary: KUBELAB_TEST_K3S, else /bin/k3s copied out of the forged node image. */
async function k3sBinary(dir: string, image: string): Promise<string> {
  if (process.env.KUBELAB_TEST_K3S) return process.env.KUBELAB_TEST_K3S;
  const { stdout: id } = await execa('docker', ['create', image]);
  try {
    await execa('docker', ['cp', `${id.trim()}:/bin/k3s`, join(dir, 'k3s')]);
  } finally {
    await execa('docker', ['rm', '--volumes', id.trim()]);
  }
  return join(dir, 'k3s');
}

export async function startApiServer(image: string): Promise<ApiServer> {
  const dir = await mkdtemp(join(tmpdir(), 'kubelab-it-api-'));
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  let child: ResultPromise | undefined;
  const halt = async () => {
    child?.kill('SIGTERM');
    await child?.catch(() => undefined);
    child = undefined;
  };
  const stop = async () => {
    await halt();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const k3s = await k3sBinary(dir, image);
    let port = await freePortPair();
    // Same port and data dir each time: a restart is the same API server coming back.
    const launch = async () => {
      child = execa(k3s, [
        'server', '--disable-agent', '--data-dir', join(dir, 'data'), '--bind-address', '127.0.0.1', '--https-listen-port', String(port),
        '--disable', 'traefik,servicelb,local-storage,metrics-server,coredns', '--disable-helm-controller', '--disable-network-policy',
        '--write-kubeconfig', kubeconfig, '--write-kubeconfig-mode', '600',
      ], { reject: false, all: true, buffer: false });
      // k3s says when it is ready; its output is the event to wait for.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('k3s API server not ready within 120 s')), 120_000);
        const done = (error?: Error) => {
          clearTimeout(timer);
          if (error) reject(error);
          else resolve();
        };
        let tail = '';
        child!.all!.on('data', (chunk: Buffer) => {
          tail = (tail + chunk.toString()).slice(-4000);
          if (tail.includes('k3s is up and running')) done();
        });
        child!.on('exit', (code) => done(new Error(`k3s exited with ${code}: ${tail}`)));
      });
    };
    // Between the port check and k3s binding it another process can take a port (tests run side by
    // side): a first start that lost that race tries again on other ports.
    for (let attempt = 1; ; attempt += 1) {
      const started = await launch().then(() => undefined, (error: Error) => error);
      if (!started) break;
      if (attempt === 3 || !/address already in use/.test(started.message)) throw started;
      port = await freePortPair();
    }
    return {
      kubeconfig,
      context: 'default',
      stop,
      halt,
      restart: async () => {
        await halt();
        await launch();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
