import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, runAllowingFailure } from '../util/exec.js';
import type { ProviderCallOptions } from './provider.js';

export interface NodeContainer {
  name: string;
  state: string;
  /** Docker's port summary, e.g. `0.0.0.0:8081->80/tcp, 127.0.0.1:6550->6443/tcp`. */
  ports: string;
  labels: Record<string, string>;
}

/** Containers carrying `label` (`key=value`), as `docker ps -a` reports them. */
export async function containersWithLabel(label: string, options: ProviderCallOptions = {}): Promise<NodeContainer[]> {
  const { stdout } = await run('docker', ['ps', '-a', '--filter', `label=${label}`, '--format', '{{json .}}'], {
    signal: options.signal,
  });
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const row = JSON.parse(line) as { Names: string; State: string; Ports: string; Labels: string };
      const labels = Object.fromEntries(
        row.Labels.split(',').filter(Boolean).map((pair) => {
          const eq = pair.indexOf('=');
          return [pair.slice(0, eq), pair.slice(eq + 1)];
        }),
      );
      return { name: row.Names, state: row.State, ports: row.Ports, labels };
    });
}

/** Parses docker's port summary into host/container pairs (IPv6 duplicates collapse). */
export function parseDockerPorts(summary: string): { hostIp: string; hostPort: number; containerPort: number }[] {
  const seen = new Set<string>();
  const result: { hostIp: string; hostPort: number; containerPort: number }[] = [];
  for (const match of summary.matchAll(/([\d.:[\]a-f]*):(\d+)->(\d+)\/tcp/g)) {
    const [, hostIp = '', hostPort, containerPort] = match;
    const key = `${hostPort}->${containerPort}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push({ hostIp, hostPort: Number(hostPort), containerPort: Number(containerPort) });
  }
  return result;
}

/** Writes `docker logs` and `docker inspect` of each node container into `dir`. */
export async function collectContainerLogs(
  filter: { label: string },
  dir: string,
  options: ProviderCallOptions = {},
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const container of await containersWithLabel(filter.label, options)) {
    const logs = await runAllowingFailure('docker', ['logs', '--tail', '2000', container.name], { signal: options.signal });
    const file = join(dir, `${container.name}.log`);
    await writeFile(file, `${logs.stdout}\n${logs.stderr}`);
    written.push(file);
  }
  return written;
}
