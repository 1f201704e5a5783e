import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runAllowingFailure } from '../util/exec.js';

/**
 * A node's own runc freezes a pod container's cgroup while it sets the container up (systemd's
 * device rules); a node killed in that moment leaves the cgroup frozen, and a frozen process takes
 * no signal, SIGKILL included: docker cannot remove the node ("did not receive an exit event") and
 * retries cannot help. Thawing the frozen cgroups under the node's own lets the kill land. Measured
 * here on kind right after its nodes were Ready: one worker's `runc init` left FROZEN, the container
 * unkillable until thawed.
 */

const CGROUP_ROOT = '/sys/fs/cgroup';

/** The container's cgroup dir where freezing is controlled: cgroup v1's freezer hierarchy, or v2's unified one. */
async function freezerDir(pid: number): Promise<{ dir: string; version: 1 | 2 } | undefined> {
  const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '')).split('\n');
  const v1 = lines.map((line) => /^\d+:freezer:(.*)$/.exec(line)?.[1]).find((path) => path !== undefined);
  if (v1 !== undefined) return { dir: join(CGROUP_ROOT, 'freezer', v1), version: 1 };
  const v2 = lines.map((line) => /^0::(.*)$/.exec(line)?.[1]).find((path) => path !== undefined);
  return v2 === undefined ? undefined : { dir: join(CGROUP_ROOT, v2), version: 2 };
}

/** Thaws every frozen cgroup at or under `dir`; returns the ones it thawed. */
async function thawTree(dir: string, version: 1 | 2): Promise<string[]> {
  const file = join(dir, version === 1 ? 'freezer.state' : 'cgroup.freeze');
  const state = (await readFile(file, 'utf8').catch(() => '')).trim();
  const thawed: string[] = [];
  // v1: FROZEN, or FREEZING when some task would not stop; v2: 1.
  if (state === 'FROZEN' || state === 'FREEZING' || state === '1') {
    await writeFile(file, version === 1 ? 'THAWED' : '0');
    thawed.push(dir);
  }
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) if (entry.isDirectory()) thawed.push(...(await thawTree(join(dir, entry.name), version)));
  return thawed;
}

/**
 * Thaws the frozen cgroups inside the given containers (a node's pods), so that a kill reaches every
 * process. Returns the cgroup dirs it thawed. Needs write access to /sys/fs/cgroup (root, as dockerd's
 * users here are); throws naming the file otherwise.
 */
export async function thawContainers(containers: string[]): Promise<string[]> {
  if (containers.length === 0) return [];
  const inspected = await runAllowingFailure('docker', ['inspect', '--format', '{{.State.Pid}}', ...containers]);
  const pids = inspected.stdout.split('\n').map(Number).filter((pid) => pid > 0);
  const thawed: string[] = [];
  for (const pid of pids) {
    const found = await freezerDir(pid);
    if (found) thawed.push(...(await thawTree(found.dir, found.version)));
  }
  return thawed;
}
