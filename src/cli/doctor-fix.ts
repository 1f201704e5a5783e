import { closeSync, mkdirSync, openSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { dockerAvailable } from '../docker/engine.js';
import { run } from '../util/exec.js';
import { stateDir, toolsDir } from '../util/paths.js';
import { findTool } from '../cluster/tools.js';
import { k3dTool, kindTool } from '../forge/catalog.js';
import { ensureGoTool, goToolSource } from '../forge/go-tool.js';
import { installRuncWrapper } from '../host/privileged.js';
import type { Check } from './doctor-check.js';

interface FixOptions {
  signal: AbortSignal;
  log: (line: string) => void;
}

function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) throw new EnvironmentError(`${what} needs root`, `run \`sudo kubelab doctor --fix\` or do it by hand`);
}

async function aptInstall(packages: string[], options: FixOptions): Promise<void> {
  requireRoot(`apt-get install ${packages.join(' ')}`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  options.log(`apt-get install ${packages.join(' ')}`);
  await run('apt-get', ['update', '-qq'], { env, signal: options.signal });
  await run('apt-get', ['install', '-y', '-qq', ...packages], { env, signal: options.signal });
}

/** Starts dockerd detached (it must outlive kubelab), logging to kubelab's state dir, and waits for it. */
async function startDockerd(options: FixOptions): Promise<void> {
  requireRoot('starting dockerd');
  mkdirSync(stateDir(), { recursive: true });
  const logFile = join(stateDir(), 'dockerd.log');
  const out = openSync(logFile, 'a');
  const child = spawn('dockerd', [], { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  closeSync(out);
  options.log(`dockerd started (pid ${child.pid}), log: ${logFile}`);
  const deadline = Date.now() + 60_000;
  // dockerd offers no readiness event to subscribe to; its API answering is the condition.
  while ((await dockerAvailable()) !== undefined) {
    if (child.exitCode !== null) throw new EnvironmentError(`dockerd exited with ${child.exitCode}`, `see ${logFile}`);
    if (Date.now() > deadline) throw new EnvironmentError('dockerd did not answer within 60s', `see ${logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Applies the fixes doctor knows, in dependency order: packages, then dockerd, then Go-built tools. */
export async function applyFixes(checks: Check[], options: FixOptions): Promise<void> {
  const needed = new Set(checks.filter((c) => !c.ok && c.fixId).map((c) => c.fixId));
  const packages = [...(needed.has('docker-install') ? ['docker.io'] : []), ...(needed.has('debootstrap') ? ['debootstrap'] : [])];
  if (packages.length > 0) await aptInstall(packages, options);
  if (needed.has('docker-install') || needed.has('docker-start')) {
    if ((await dockerAvailable()) !== undefined) await startDockerd(options);
  }
  if (needed.has('privileged')) await installRuncWrapper(options.log);
  if (needed.has('tools')) {
    for (const tool of [k3dTool, kindTool]) {
      if (findTool(tool.name)) continue;
      options.log(`building ${tool.name} into ${toolsDir()} from the Go module proxy (${goToolSource(tool)})`);
      await ensureGoTool(tool, { signal: options.signal });
    }
  }
}
