import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'kubelab-';

/**
 * A private temp dir named kubelab-<pid>-<purpose>-XXXXXX (mode 0700, as mkdtemp makes it). The pid
 * says whose it is: `kubelab gc` removes the ones whose process is gone (a run killed with SIGKILL).
 */
export function makeTempDir(purpose: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `${PREFIX}${process.pid}-${purpose}-`));
}

/** The pid in a temp dir name made by makeTempDir, or undefined for any other name. */
export function tempDirOwner(name: string): number | undefined {
  const match = /^kubelab-(\d+)-[a-z0-9-]+-\w{6}$/.exec(name);
  return match ? Number(match[1]) : undefined;
}
