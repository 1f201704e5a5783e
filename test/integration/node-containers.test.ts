/**
 * What Docker sees happen to a cluster's node containers becomes faults, against the real dockerd:
 * a labelled container (the forged busybox, standing in for a node) is killed and started again.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import { forgeImages } from '../../src/forge/catalog.js';
import { BUSYBOX_IMAGE } from '../../src/forge/small-images.js';
import { containerFault, recordNodeContainerFaults } from '../../src/observe/node-containers.js';
import type { Fault } from '../../src/observe/fault.js';

const MINUTE = 60_000;
const label = `dev.kubelab.test.node=${randomUUID()}`;
const name = `kubelab-it-node-${label.slice(-8)}`;

beforeAll(async () => {
  await forgeImages([BUSYBOX_IMAGE]);
  await execa('docker', ['run', '-d', '--name', name, '--label', label, BUSYBOX_IMAGE, 'sleep', '600']);
}, 10 * MINUTE);
afterAll(async () => {
  await execa('docker', ['rm', '-f', name], { reject: false });
});

/** Resolves with the faults once `count` have been recorded (each is pushed as docker reports it). */
function collector(count: number): { faults: Fault[]; reached: Promise<void>; record: (f: Fault) => void } {
  const faults: Fault[] = [];
  let done!: () => void;
  const reached = new Promise<void>((resolve) => (done = resolve));
  return { faults, reached, record: (f) => (faults.push(f), faults.length >= count && done()) };
}

describe('recordNodeContainerFaults', () => {
  test('a node container killed and started again is two faults, in order, from docker events', async () => {
    const { faults, reached, record } = collector(2);
    const stop = new AbortController();
    const recording = recordNodeContainerFaults(label, record, stop.signal);
    try {
      // The stream is open once `docker events` runs; a kill before that is still read back by --since.
      await execa('docker', ['kill', name]);
      await execa('docker', ['start', name]);
      await reached;
    } finally {
      stop.abort();
      await recording;
    }
    expect(faults).toEqual([
      { reason: 'NodeContainerDied', object: `container/${name}`, message: 'killed (exit 137)' },
      { reason: 'NodeContainerStarted', object: `container/${name}`, message: 'running again' },
    ]);
  }, 2 * MINUTE);

  test('a node container removed (its cluster deleted from outside) is a fault of its own, after it died', async () => {
    const removed = `${name}-removed`;
    await execa('docker', ['run', '-d', '--name', removed, '--label', label, BUSYBOX_IMAGE, 'sleep', '600']);
    const { faults, reached, record } = collector(2);
    const stop = new AbortController();
    const recording = recordNodeContainerFaults(label, record, stop.signal);
    try {
      await execa('docker', ['rm', '-f', removed]);
      await reached;
    } finally {
      stop.abort();
      await recording;
      await execa('docker', ['rm', '-f', removed], { reject: false });
    }
    expect(faults).toEqual([
      { reason: 'NodeContainerDied', object: `container/${removed}`, message: 'killed (exit 137)' },
      { reason: 'NodeContainerRemoved', object: `container/${removed}`, message: 'removed: the cluster is being deleted from outside this run' },
    ]);
  }, 2 * MINUTE);

  test('a kill is told from another exit, and other container actions are no fault', () => {
    expect(containerFault({ Action: 'die', Actor: { Attributes: { name: 'n', exitCode: '2' } }, timeNano: 1 })).toEqual({
      reason: 'NodeContainerDied', object: 'container/n', message: 'exited with 2',
    });
    expect(containerFault({ Action: 'exec_start', Actor: { Attributes: { name: 'n' } }, timeNano: 1 })).toBeUndefined();
  });
});
