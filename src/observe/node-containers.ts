import { setTimeout as delay } from 'node:timers/promises';
import { dockerAvailable, waitForDocker } from '../docker/engine.js';
import { runAllowingFailure } from '../util/exec.js';
import type { Fault } from './fault.js';

interface DockerEvent {
  Action: string;
  Actor: { Attributes: Record<string, string> };
  timeNano: number;
}

/** A fault from one `docker events` line of a node container (die, start, oom, destroy); others give none. */
export function containerFault(event: DockerEvent): Fault | undefined {
  const name = event.Actor.Attributes.name ?? '?';
  const object = `container/${name}`;
  switch (event.Action) {
    case 'die': {
      const code = Number(event.Actor.Attributes.exitCode);
      const how = code === 137 ? 'killed (exit 137)' : `exited with ${code}`;
      return { reason: 'NodeContainerDied', object, message: how };
    }
    case 'start':
      return { reason: 'NodeContainerStarted', object, message: 'running again' };
    case 'oom':
      return { reason: 'NodeContainerOOM', object, message: 'out of memory' };
    case 'destroy':
      return { reason: 'NodeContainerRemoved', object, message: 'removed: the cluster is being deleted from outside this run' };
    default:
      return undefined;
  }
}

/**
 * Records what the Docker daemon sees happen to a cluster's node containers until `signal` aborts:
 * a node container dying (killed, out of memory, stopped with the daemon), starting again or removed, and the
 * daemon itself going away and coming back. The API server reports a dead node only some 40 s later,
 * as NotReady; these are its cause, at the moment it happened.
 */
export async function recordNodeContainerFaults(label: string, record: (fault: Fault) => void, signal: AbortSignal): Promise<void> {
  // Resumed with --since after the daemon comes back, so events of the restart itself are not lost;
  // events already recorded (same timestamp or older) are skipped.
  let lastNano = BigInt(Date.now()) * 1_000_000n;
  const follow = () =>
    runAllowingFailure(
      'docker',
      ['events', '--filter', `label=${label}`, '--filter', 'type=container', '--filter', 'event=die', '--filter', 'event=start', '--filter', 'event=oom', '--filter', 'event=destroy',
        '--since', String(Number(lastNano / 1_000_000_000n)), '--format', '{{json .}}'],
      {
        signal,
        readLine: (line) => {
          // The CLI's own complaints (stderr, e.g. "unexpected EOF" as the daemon goes) share the stream.
          if (!line.startsWith('{')) return;
          const event = JSON.parse(line) as DockerEvent;
          const nano = BigInt(event.timeNano);
          if (nano <= lastNano) return;
          lastNano = nano;
          const fault = containerFault(event);
          if (fault) record(fault);
        },
      },
    );
  try {
    while (!signal.aborted) {
      const ended = await follow();
      if (signal.aborted) break;
      if (!(await dockerAvailable())) {
        // The stream broke but the daemon answers: follow again, at most once a second.
        await delay(1000, undefined, { signal });
        continue;
      }
      const since = Date.now();
      const why = (ended.stderr || ended.stdout).trim().split('\n').pop() || `docker events exited with ${ended.exitCode}`;
      record({ reason: 'DockerDaemonUnreachable', object: 'docker', message: why });
      await waitForDocker(Number.POSITIVE_INFINITY, signal);
      record({ reason: 'DockerDaemonBack', object: 'docker', message: `answering again after ${((Date.now() - since) / 1000).toFixed(1)} s` });
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}
