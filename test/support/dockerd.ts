/**
 * Restarts this machine's Docker daemon the way an upgrade or a crash-and-restart would: SIGTERM
 * (it stops the containers, which their restart policy brings back), then started again as
 * scripts/bootstrap.sh starts it, with the same daemon.json. Needs root and a daemon started
 * outside systemd (pgrep finds it); anything else fails naming why.
 */
import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { waitForDocker } from '../../src/docker/engine.js';
import { stateDir } from '../../src/util/paths.js';

/** Resolves once the new daemon answers; returns how long Docker was away, in ms. */
export async function restartDockerd(): Promise<number> {
  const found = await execa('pgrep', ['-x', 'dockerd'], { reject: false });
  const pid = Number(found.stdout.trim().split('\n')[0]);
  if (!pid || process.getuid?.() !== 0) throw new Error(`cannot restart dockerd here (pid ${found.stdout.trim() || 'none'}, uid ${process.getuid?.()})`);
  const stopped = Date.now();
  process.kill(pid, 'SIGTERM');
  // Its exit is the event; there is no handle on a process this test did not start but its pid.
  while ((await execa('kill', ['-0', String(pid)], { reject: false })).exitCode === 0) await new Promise((r) => setTimeout(r, 100));
  const log = await open(join(stateDir(), 'dockerd.log'), 'a');
  try {
    spawn('setsid', ['dockerd'], { detached: true, stdio: ['ignore', log.fd, log.fd] }).unref();
  } finally {
    await log.close();
  }
  await waitForDocker(60_000).catch((error: Error) => {
    throw new Error(`dockerd did not answer within 60 s of its restart (${error.message}); see ${join(stateDir(), 'dockerd.log')}`);
  });
  return Date.now() - stopped;
}
