import { statfs } from 'node:fs/promises';
import { homedir } from 'node:os';
import { PROVIDERS, providerFor } from '../cluster/registry.js';
import { findTool } from '../cluster/tools.js';
import { isPortFree } from '../cluster/ports.js';
import { hostPortsOf } from '../cluster/spec.js';
import { dockerAvailable } from '../docker/engine.js';
import { lessonIds, loadLesson } from '../lab/catalog.js';
import { runAllowingFailure } from '../util/exec.js';
import { toolsDir } from '../util/paths.js';
import { clusterSpecFor } from '../lab/lesson-clusters.js';
import { forgeItems } from '../forge/catalog.js';
import { DEFAULT_PULL_POLICY, imageNeed, localImage, plannedSource, type PullPolicy } from '../images/image-source.js';
import { hostHasSysResource, privilegedContainerProblem, WRAPPER_PATH } from '../host/privileged.js';
import type { Check } from './doctor-check.js';

const MIN_FREE_BYTES = 15 * 1024 ** 3;

async function toolCheck(tool: string, versionArgs: string[], optional = false): Promise<Check> {
  const path = findTool(tool);
  if (!path) {
    return { name: tool, ok: false, detail: `not on PATH nor in ${toolsDir()}`, fix: 'kubelab doctor --fix (builds it from the Go module proxy)', fixId: 'tools', optional };
  }
  const version = await runAllowingFailure(path, versionArgs);
  return { name: tool, ok: version.exitCode === 0, detail: `${path}: ${version.stdout.split('\n')[0]?.trim() || version.stderr.trim()}`, optional };
}

/** k3d and kind nodes are privileged containers: they must start on this host. */
async function privilegedCheck(): Promise<Check> {
  const problem = await privilegedContainerProblem().catch((error: Error) => `probe failed: ${error.message}`);
  if (!problem) {
    const wrapped = !hostHasSysResource();
    return { name: 'privileged containers', ok: true, detail: wrapped ? `start (through ${WRAPPER_PATH}: this host lacks CAP_SYS_RESOURCE)` : 'start' };
  }
  return {
    name: 'privileged containers',
    ok: false,
    detail: `fail: ${problem}`,
    fix: hostHasSysResource()
      ? 'check the docker runtime configuration'
      : 'kubelab doctor --fix installs a runc wrapper that drops CAP_SYS_RESOURCE (this host cannot grant it) and makes it dockerd\'s default runtime',
    fixId: hostHasSysResource() ? undefined : 'privileged',
  };
}

/** Each image kubelab runs or builds on: whether it is local, and where it would come from by `--pull`. */
async function imageChecks(pull: PullPolicy): Promise<Check[]> {
  const items = forgeItems();
  // Each check is a few `docker image inspect`s: side by side, doctor answers in about a second.
  const checks = await Promise.all(items.filter((i) => i.kind === 'image').map(async (item): Promise<Check | undefined> => {
    const status = await item.status().catch(() => undefined);
    if (!status) return undefined; // docker is down: its own check says so
    const need = imageNeed(item.location, items);
    const [source, local] = await Promise.all([plannedSource(need, pull), localImage(need)]);
    // What a k3d cluster cannot start without; the others are inputs (the node image carries them) or lesson bases.
    const requiredForK3d = ['k3s node image', 'k3d-proxy image', 'k3d-tools image'].includes(item.name);
    return local
      ? { name: item.name, ok: true, detail: `${source}${status.present ? ` (${((status.sizeBytes ?? 0) / 1e6).toFixed(0)} MB)` : ''}` }
      : {
          name: item.name,
          ok: false,
          detail: `${status.location} not local: ${source} (forge: ${item.sources})`,
          fix: requiredForK3d ? 'kubelab run and up pull or forge it when missing (kubelab forge builds it now)' : `kubelab forge "${item.name}" (or had on first use)`,
          optional: !requiredForK3d,
        };
  }));
  return checks.filter((check): check is Check => check !== undefined);
}

async function portChecks(lessonId?: string): Promise<Check[]> {
  const checks: Check[] = [];
  const ids = lessonId ? [lessonId] : await lessonIds();
  for (const id of ids) {
    const spec = clusterSpecFor(await loadLesson(id), {});
    for (const port of hostPortsOf(spec)) {
      const free = await isPortFree(port);
      checks.push({ name: `port ${port} (${id})`, ok: free, detail: free ? 'free' : 'in use', fix: free ? undefined : `free port ${port} or delete the cluster holding it (kubelab list)` });
    }
  }
  return checks;
}

function debootstrapCheck(): Check {
  return findTool('debootstrap')
    ? { name: 'debootstrap', ok: true, detail: 'present (builds the local base images)' }
    : { name: 'debootstrap', ok: false, detail: 'missing: no local base image can be built where nothing can be pulled', fix: 'apt-get install debootstrap', fixId: 'debootstrap' };
}

async function diskCheck(): Promise<Check> {
  // Images and node volumes live under docker's root; the state dir holds only small files.
  const fs = await statfs('/var/lib/docker').catch(() => statfs(homedir()));
  const freeBytes = fs.bavail * fs.bsize;
  return {
    name: 'disk',
    ok: freeBytes >= MIN_FREE_BYTES,
    detail: `${(freeBytes / 1024 ** 3).toFixed(1)} GiB free (clusters and images need ${MIN_FREE_BYTES / 1024 ** 3} GiB)`,
    fix: freeBytes >= MIN_FREE_BYTES ? undefined : 'docker system prune, or free disk space',
  };
}

async function dockerChecks(): Promise<Check[]> {
  if (!findTool('docker')) {
    return [
      { name: 'docker CLI', ok: false, detail: 'docker is not installed', fix: 'apt-get install docker.io', fixId: 'docker-install' },
      await privilegedCheck(),
    ];
  }
  const problem = await dockerAvailable();
  if (problem) return [{ name: 'docker daemon', ok: false, detail: problem.message, fix: 'start dockerd (kubelab doctor --fix starts it as root)', fixId: 'docker-start' }];
  return [{ name: 'docker daemon', ok: true, detail: 'reachable' }, await privilegedCheck()];
}

/** Everything kubelab needs from the machine, each with its remedy, in a fixed order (the probes run side by side). */
export async function runChecks(lessonId?: string, pull: PullPolicy = DEFAULT_PULL_POLICY): Promise<Check[]> {
  const groups = await Promise.all([
    dockerChecks(),
    Promise.all([...PROVIDERS.map((name) => toolCheck(providerFor(name).tool, ['version'])), toolCheck('kubectl', ['version', '--client'], true)]),
    imageChecks(pull),
    [debootstrapCheck()],
    portChecks(lessonId),
    Promise.all([diskCheck()]),
  ]);
  return groups.flat();
}

export function formatChecks(checks: Check[]): string {
  return checks
    .map((c) => `${c.ok ? ' ok ' : c.optional ? 'warn' : 'FAIL'}  ${c.name.padEnd(22)} ${c.detail}${!c.ok && c.fix ? `\n      fix: ${c.fix}` : ''}`)
    .join('\n');
}
