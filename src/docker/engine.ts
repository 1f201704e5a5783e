import { execa } from 'execa';
import { EnvironmentError } from '../errors.js';
import { eachLine, run, runAllowingFailure } from '../util/exec.js';
import { repeatUntil } from '../util/repeat.js';

/**
 * A small wrapper over the docker CLI (argument arrays only, never a shell string).
 * kubelab talks to whatever daemon `docker` talks to (DOCKER_HOST / context are respected).
 */

const DOCKER = 'docker';

/** Every container kubelab starts carries this label, so that leftovers can be found and removed. */
export const MANAGED_LABEL = 'dev.kubelab.managed';

/**
 * Returns undefined when the daemon answers, else an EnvironmentError that says why (the caller
 * decides whether to throw it or print it in a report such as `kubelab doctor`).
 */
export async function dockerAvailable(): Promise<EnvironmentError | undefined> {
  let result;
  try {
    result = await runAllowingFailure(DOCKER, ['version', '--format', '{{.Server.Version}}'], { timeoutMs: 20_000 });
  } catch (error) {
    if (error instanceof EnvironmentError) {
      return new EnvironmentError('docker is not installed (the docker CLI is not on PATH)', 'kubelab doctor --fix');
    }
    throw error;
  }
  if (result.exitCode === 0 && result.stdout.trim()) return undefined;
  const detail = lastLines(result.stderr || result.stdout, 2) || `docker version exited with ${result.exitCode}`;
  return new EnvironmentError(`the docker daemon is not reachable: ${detail}`, 'kubelab doctor --fix');
}

/**
 * Waits for a daemon that is not answering (restarting, say) to answer again, asking once a second:
 * nothing can be watched while it is away. Throws its EnvironmentError once `timeoutMs` has passed.
 */
export async function waitForDocker(timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const problem = await repeatUntil(dockerAvailable, (answer) => answer === undefined, { deadline: Date.now() + timeoutMs, everyMs: 1000, signal });
  if (problem) throw problem;
}

/** Throws the EnvironmentError from dockerAvailable(), if any. */
export async function assertDockerAvailable(): Promise<void> {
  const problem = await dockerAvailable();
  if (problem) throw problem;
}

export interface ImageInfo {
  id: string;
  sizeBytes: number;
  labels: Record<string, string>;
  created: string;
}

/** The local image's id, size and labels, or undefined when there is no such image. */
export async function inspectImage(ref: string): Promise<ImageInfo | undefined> {
  const result = await runAllowingFailure(DOCKER, ['image', 'inspect', '--format', '{{json .}}', ref]);
  if (result.exitCode !== 0) {
    if (/no such image/i.test(result.stderr)) return undefined;
    throw new Error(`docker image inspect ${ref} failed: ${lastLines(result.stderr, 4)}`);
  }
  const raw = JSON.parse(result.stdout) as {
    Id: string;
    Size: number;
    Created: string;
    Config?: { Labels?: Record<string, string> | null } | null;
  };
  return { id: raw.Id, sizeBytes: raw.Size, labels: raw.Config?.Labels ?? {}, created: raw.Created };
}

/** The local images of `refs` that exist, by ref, inspected side by side (a docker CLI call each, about 40 ms apiece in turn). */
export async function inspectImages(refs: readonly string[]): Promise<Map<string, ImageInfo>> {
  const infos = await Promise.all(refs.map((ref) => inspectImage(ref)));
  return new Map(refs.flatMap((ref, i) => (infos[i] ? [[ref, infos[i]] as const] : [])));
}

export async function imageExists(ref: string): Promise<boolean> {
  return (await inspectImage(ref)) !== undefined;
}

/** Removes a local image (tag); a missing image is not an error. */
export async function removeImage(ref: string): Promise<void> {
  const result = await runAllowingFailure(DOCKER, ['image', 'rm', ref]);
  if (result.exitCode !== 0 && !/no such image/i.test(result.stderr)) {
    throw new Error(`docker image rm ${ref} failed: ${lastLines(result.stderr, 4)}`);
  }
}

export interface PortMapping {
  /** Host address to bind; use 127.0.0.1 so nothing is exposed beyond this machine. */
  host: string;
  /** Host port; omit or 0 to let docker choose a free ephemeral port (see publishedPort()). */
  hostPort?: number;
  containerPort: number;
  protocol?: 'tcp' | 'udp';
}

export interface RunContainerOptions {
  image: string;
  name: string;
  ports?: readonly PortMapping[];
  env?: Readonly<Record<string, string>>;
  labels?: Readonly<Record<string, string>>;
  /** Replaces the image's CMD. */
  command?: readonly string[];
  signal?: AbortSignal;
}

/** `docker run -d`; returns the container id. The container also gets the MANAGED_LABEL. */
export async function runContainer(options: RunContainerOptions): Promise<string> {
  const args = ['run', '--detach', '--name', options.name, '--label', `${MANAGED_LABEL}=true`];
  for (const [key, value] of Object.entries(options.labels ?? {})) args.push('--label', `${key}=${value}`);
  for (const [key, value] of Object.entries(options.env ?? {})) args.push('--env', `${key}=${value}`);
  for (const port of options.ports ?? []) {
    const hostPort = port.hostPort ? String(port.hostPort) : '';
    const proto = port.protocol && port.protocol !== 'tcp' ? `/${port.protocol}` : '';
    args.push('--publish', `${port.host}:${hostPort}:${port.containerPort}${proto}`);
  }
  args.push(options.image, ...(options.command ?? []));
  const { stdout } = await run(DOCKER, args, { signal: options.signal });
  const id = stdout.trim().split('\n').pop() ?? '';
  if (!/^[0-9a-f]{12,64}$/.test(id)) throw new Error(`docker run ${options.image} printed no container id: ${stdout}`);
  return id;
}

/** The host port docker published for a container port (after `hostPort: 0`). */
export async function publishedPort(nameOrId: string, containerPort: number, protocol: 'tcp' | 'udp' = 'tcp'): Promise<number> {
  const { stdout } = await run(DOCKER, ['port', nameOrId, `${containerPort}/${protocol}`]);
  // One line per binding, e.g. "127.0.0.1:49153" or "[::]:49153".
  const match = /:(\d+)\s*$/m.exec(stdout.trim().split('\n')[0] ?? '');
  if (!match) throw new Error(`container ${nameOrId} publishes no host port for ${containerPort}/${protocol}: ${stdout}`);
  return Number(match[1]);
}

/** `docker rm --force --volumes`; a missing container is not an error. */
export async function removeContainer(nameOrId: string): Promise<void> {
  const result = await runAllowingFailure(DOCKER, ['rm', '--force', '--volumes', nameOrId]);
  if (result.exitCode !== 0 && !/no such container/i.test(result.stderr)) {
    throw new Error(`docker rm ${nameOrId} failed: ${lastLines(result.stderr, 4)}`);
  }
}

/** The last `tail` lines of a container's output (its stdout and stderr, in that order). */
export async function containerLogs(nameOrId: string, tail = 50): Promise<string> {
  const result = await runAllowingFailure(DOCKER, ['logs', '--tail', String(tail), nameOrId]);
  if (result.exitCode !== 0) throw new Error(`docker logs ${nameOrId} failed: ${lastLines(result.stderr, 4)}`);
  return [result.stdout, result.stderr].filter((s) => s.trim()).join('\n');
}

export interface WaitForLogOptions {
  /** A deadline, not a delay: the wait ends as soon as the line appears. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Follows `docker logs --follow` and resolves with the first line matching `pattern` (the
 * server's "listening" line). Rejects, with the log tail, when the container stops first or the
 * deadline passes. Event-driven: no polling, no fixed sleep.
 */
export async function waitForLog(nameOrId: string, pattern: RegExp, options: WaitForLogOptions = {}): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const follower = execa(DOCKER, ['logs', '--follow', nameOrId], {
    all: true,
    reject: false,
    buffer: false,
    timeout: timeoutMs,
    cancelSignal: options.signal,
    forceKillAfterDelay: 2000,
  });
  const seen: string[] = [];
  try {
    const found = await new Promise<string | undefined>((resolve, reject) => {
      if (follower.all) {
        eachLine(follower.all, (line) => {
          seen.push(line);
          if (seen.length > 40) seen.shift();
          if (pattern.test(line)) resolve(line);
        });
      }
      follower.then(() => resolve(undefined), reject);
    });
    if (found !== undefined) return found;
  } finally {
    follower.kill();
    await follower.catch(() => undefined);
  }
  if (options.signal?.aborted) throw Object.assign(new Error('waiting for container log was cancelled'), { name: 'AbortError' });
  const state = await runAllowingFailure(DOCKER, ['inspect', '--format', '{{.State.Status}} (exit {{.State.ExitCode}})', nameOrId]);
  throw new Error(
    `container ${nameOrId} never printed ${pattern} (state: ${state.stdout.trim() || 'unknown'}; waited up to ${timeoutMs} ms).\n` +
      `last output:\n${seen.slice(-15).join('\n')}`,
  );
}

export function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join('\n');
}

/** Gives an existing local image another name (`docker tag`). */
export async function tagImage(source: string, target: string): Promise<void> {
  await run(DOCKER, ['tag', source, target]);
}
