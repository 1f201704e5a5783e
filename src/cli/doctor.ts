import { statfs } from 'node:fs/promises';
import { homedir } from 'node:os';
import type { Command } from 'commander';
import { PROVIDERS, providerFor } from '../cluster/registry.js';
import { findTool } from '../cluster/tools.js';
import { isPortFree } from '../cluster/ports.js';
import { hostPortsOf } from '../cluster/spec.js';
import { dockerAvailable } from '../docker/engine.js';
import { ExitCode } from '../errors.js';
import { lessonIds, loadLesson } from '../lab/catalog.js';
import { runAllowingFailure } from '../util/exec.js';
import { toolsDir } from '../util/paths.js';
import { clusterSpecFor } from './options.js';
import { forgeItems } from '../forge/catalog.js';
import { hostHasSysResource, privilegedContainerProblem, WRAPPER_PATH } from '../host/privileged.js';
import type { Check } from './doctor-check.js';
import { applyFixes } from './doctor-fix.js';

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

/** Images kubelab builds itself: the bases are built on first use; the node image cannot be. */
async function forgedImageChecks(): Promise<Check[]> {
  const checks: Check[] = [];
  for (const item of forgeItems().filter((i) => i.kind === 'image')) {
    const status = await item.status().catch(() => undefined);
    if (!status) continue; // docker is down: its own check says so
    // What a k3d cluster cannot start without; the others are inputs (the node image carries them) or lesson bases.
    const requiredForK3d = ['k3s node image', 'k3d-proxy image', 'k3d-tools image'].includes(item.name);
    checks.push(status.present
      ? { name: item.name, ok: true, detail: `${status.location} (${((status.sizeBytes ?? 0) / 1e6).toFixed(0)} MB)` }
      : {
          name: item.name,
          ok: false,
          detail: `${status.location} missing (${item.sources})`,
          fix: requiredForK3d ? 'kubelab forge (run and up also forge it when missing)' : `kubelab forge "${item.name}" (or built on first use)`,
          optional: !requiredForK3d,
        });
  }
  return checks;
}

/** Everything kubelab needs from the machine, each with its remedy. */
export async function runChecks(lessonId?: string): Promise<Check[]> {
  const checks: Check[] = [];
  const dockerCli = findTool('docker');
  if (!dockerCli) {
    checks.push({ name: 'docker CLI', ok: false, detail: 'docker is not installed', fix: 'apt-get install docker.io', fixId: 'docker-install' });
  } else {
    const problem = await dockerAvailable();
    checks.push(problem
      ? { name: 'docker daemon', ok: false, detail: problem.message, fix: 'start dockerd (kubelab doctor --fix starts it as root)', fixId: 'docker-start' }
      : { name: 'docker daemon', ok: true, detail: 'reachable' });
  }
  if (!dockerCli || checks.at(-1)?.ok) checks.push(await privilegedCheck());
  for (const name of PROVIDERS) checks.push(await toolCheck(providerFor(name).tool, ['version']));
  checks.push(await toolCheck('kubectl', ['version', '--client'], true));
  checks.push(...(await forgedImageChecks()));
  checks.push(findTool('debootstrap')
    ? { name: 'debootstrap', ok: true, detail: 'present (builds the local base images)' }
    : { name: 'debootstrap', ok: false, detail: 'missing: no local base image can be built where nothing can be pulled', fix: 'apt-get install debootstrap', fixId: 'debootstrap' });
  const ids = lessonId ? [lessonId] : await lessonIds();
  for (const id of ids) {
    const spec = clusterSpecFor(await loadLesson(id), {});
    for (const port of hostPortsOf(spec)) {
      const free = await isPortFree(port);
      checks.push({ name: `port ${port} (${id})`, ok: free, detail: free ? 'free' : 'in use', fix: free ? undefined : `free port ${port} or delete the cluster holding it (kubelab list)` });
    }
  }
  // Images and node volumes live under docker's root; the state dir holds only small files.
  const fs = await statfs('/var/lib/docker').catch(() => statfs(homedir()));
  const freeBytes = fs.bavail * fs.bsize;
  checks.push({
    name: 'disk',
    ok: freeBytes >= MIN_FREE_BYTES,
    detail: `${(freeBytes / 1024 ** 3).toFixed(1)} GiB free (clusters and images need ${MIN_FREE_BYTES / 1024 ** 3} GiB)`,
    fix: freeBytes >= MIN_FREE_BYTES ? undefined : 'docker system prune, or free disk space',
  });
  return checks;
}

export function formatChecks(checks: Check[]): string {
  return checks
    .map((c) => `${c.ok ? ' ok ' : c.optional ? 'warn' : 'FAIL'}  ${c.name.padEnd(22)} ${c.detail}${!c.ok && c.fix ? `\n      fix: ${c.fix}` : ''}`)
    .join('\n');
}

export function doctorCommand(program: Command, signal: AbortSignal, setExitCode: (code: number) => void): void {
  program.command('doctor')
    .description('check docker, k3d, kind, kubectl, free ports and disk; print the fix for each missing piece')
    .argument('[lesson]', 'check only this lesson\'s ports')
    .option('--fix', 'install what can be installed (Debian packages as root, start dockerd, build k3d/kind)')
    .action(async (lessonId: string | undefined, flags: { fix?: boolean }) => {
      let checks = await runChecks(lessonId);
      if (flags.fix && checks.some((c) => !c.ok && c.fixId)) {
        await applyFixes(checks, { signal, log: (line) => process.stdout.write(`  ${line}\n`) });
        checks = await runChecks(lessonId);
      }
      process.stdout.write(formatChecks(checks) + '\n');
      const missing = checks.filter((c) => !c.ok && !c.optional);
      setExitCode(missing.length === 0 ? ExitCode.ok : ExitCode.environmentMissing);
    });
}
