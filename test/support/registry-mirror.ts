import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { execa } from 'execa';

/**
 * Makes a registry the Docker daemon's mirror of Docker Hub for a test: `registry-mirrors` and
 * `insecure-registries` added to /etc/docker/daemon.json (everything else it holds, e.g. the
 * kubelab-runc runtime, kept), applied with SIGHUP, which reloads them without stopping any
 * container. `restore()` puts the daemon and the file back as they were.
 */
export interface DockerMirror {
  url: string;
  restore(): Promise<void>;
}

const DAEMON_JSON = '/etc/docker/daemon.json';

async function dockerdPid(): Promise<number> {
  const fromFile = existsSync('/var/run/docker.pid') ? Number((await readFile('/var/run/docker.pid', 'utf8')).trim()) : NaN;
  if (Number.isInteger(fromFile) && fromFile > 0) return fromFile;
  const { stdout } = await execa('pidof', ['dockerd']);
  return Number(stdout.trim().split(/\s+/)[0]);
}

const mirrors = async () => (await execa('docker', ['info', '--format', '{{json .RegistryConfig.Mirrors}}'])).stdout;

/** Asks `docker info` until `accepted` holds for its mirror list (the reload is asynchronous), up to a deadline. */
async function reloadUntil(accepted: (mirrorList: string) => boolean, what: string): Promise<void> {
  process.kill(await dockerdPid(), 'SIGHUP');
  const deadline = Date.now() + 30_000;
  for (let list = await mirrors(); !accepted(list); list = await mirrors()) {
    if (Date.now() > deadline) throw new Error(`dockerd did not ${what} within 30 s after SIGHUP (mirrors: ${list})`);
    await delay(200);
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.kubelab-test-${process.pid}`;
  await writeFile(temp, text);
  await rename(temp, path);
}

export async function useRegistryMirror(hostPort: string): Promise<DockerMirror> {
  const url = `http://${hostPort}`;
  const original = existsSync(DAEMON_JSON) ? await readFile(DAEMON_JSON, 'utf8') : undefined;
  const config = original ? (JSON.parse(original) as Record<string, unknown>) : {};
  const list = (key: string) => (Array.isArray(config[key]) ? (config[key] as string[]) : []);
  const withMirror = { ...config, 'registry-mirrors': [url, ...list('registry-mirrors')], 'insecure-registries': [hostPort, ...list('insecure-registries')] };
  const restore = async (): Promise<void> => {
    // A reload changes only the keys the file names: the original lists are set explicitly (empty
    // when it had none), then the file itself goes back byte for byte and is reloaded unchanged.
    const emptied = { ...config, 'registry-mirrors': list('registry-mirrors'), 'insecure-registries': list('insecure-registries') };
    await writeAtomically(DAEMON_JSON, JSON.stringify(emptied, null, 2) + '\n');
    await reloadUntil((mirrorList) => !mirrorList.includes(url), `drop the mirror ${url}`);
    if (original === undefined) await rm(DAEMON_JSON, { force: true });
    else await writeAtomically(DAEMON_JSON, original);
    process.kill(await dockerdPid(), 'SIGHUP');
  };
  await writeAtomically(DAEMON_JSON, JSON.stringify(withMirror, null, 2) + '\n');
  try {
    await reloadUntil((mirrorList) => mirrorList.includes(url), `take the mirror ${url}`);
  } catch (error) {
    await restore();
    throw error;
  }
  return { url, restore };
}
