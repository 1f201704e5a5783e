/**
 * Where a tool's output lines go (issue 10, item 7): into the command's log always; to the display
 * line by line on a terminal, but in plain output only as a "still running" line per interval.
 * Time is jest's fake clock (the interval and Date), the log a real file in a temp state dir.
 */
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endToolLog, HEARTBEAT_MS, startToolLog, toolOutput } from '../../src/util/tool-log.js';

let home: string;
const previousHome = process.env.KUBELAB_HOME;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'kubelab-unit-tool-log-'));
  process.env.KUBELAB_HOME = home;
  // The write stream's own scheduling stays real; only the clock and the interval are fake.
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
});

afterEach(async () => {
  jest.useRealTimers();
  await endToolLog();
  if (previousHome === undefined) delete process.env.KUBELAB_HOME;
  else process.env.KUBELAB_HOME = previousHome;
  await rm(home, { recursive: true, force: true });
});

const unpacking = (n: number) => Array.from({ length: n }, (_, i) => `I: Unpacking package-${i}...`);

describe('plain output', () => {
  test('a tool\'s lines reach the display only as one heartbeat per interval, and all of them reach the log', async () => {
    startToolLog('forge', false);
    const shown: string[] = [];
    const output = toolOutput('/usr/sbin/debootstrap', ['--variant=minbase', 'bookworm', '/tmp/rootfs'], 42, (line) => shown.push(line));
    for (const line of unpacking(1200)) output.line(line);
    expect(shown).toEqual([]);
    jest.advanceTimersByTime(HEARTBEAT_MS);
    expect(shown).toEqual(['debootstrap bookworm: running 20s, 1,200 lines of output so far, last: I: Unpacking package-1199...']);
    jest.advanceTimersByTime(HEARTBEAT_MS - 1);
    expect(shown).toHaveLength(1);
    output.end({ exitCode: 0 });
    jest.advanceTimersByTime(10 * HEARTBEAT_MS);
    expect(shown).toHaveLength(1);

    const log = await endToolLog();
    expect(log?.path).toMatch(new RegExp(`^${home}/logs/forge-.+\\.log$`));
    const written = (await readFile(log!.path, 'utf8')).trimEnd().split('\n');
    expect(written[0]).toMatch(/^\d\d:\d\d:\d\d debootstrap\[42\] \$ debootstrap --variant=minbase bookworm \/tmp\/rootfs$/);
    expect(written.slice(1, -1).map((line) => line.replace(/^\d\d:\d\d:\d\d debootstrap\[42\] /, ''))).toEqual(unpacking(1200));
    expect(written.at(-1)).toMatch(/debootstrap\[42\] exited with 0 after 40s$/);
  });

  test('a silent tool still says it is alive', () => {
    startToolLog('forge', false);
    const shown: string[] = [];
    const output = toolOutput('/usr/bin/go', ['build', '-trimpath', '.'], 7, (line) => shown.push(line));
    jest.advanceTimersByTime(4 * HEARTBEAT_MS);
    output.end({ signal: 'SIGTERM' });
    expect(shown).toEqual([20, 40, 60, 80].map((s) => `go build: running ${s < 60 ? `${s}s` : `1m${String(s - 60).padStart(2, '0')}s`}, 0 lines of output so far`));
  });
});

describe('terminal and library use', () => {
  test('on a terminal every line reaches the display as it comes, and the log too', async () => {
    startToolLog('run', true);
    const shown: string[] = [];
    const output = toolOutput('k3d', ['cluster', 'create'], 9, (line) => shown.push(line));
    output.line('INFO[0000] Prep: Network');
    output.line('INFO[0001] Created network');
    jest.advanceTimersByTime(3 * HEARTBEAT_MS);
    output.end({ exitCode: 0 });
    expect(shown).toEqual(['INFO[0000] Prep: Network', 'INFO[0001] Created network']);
    const log = await endToolLog();
    expect(await readFile(log!.path, 'utf8')).toContain('k3d[9] INFO[0001] Created network\n');
  });

  test('without a started log every line reaches the display and nothing is written', async () => {
    const shown: string[] = [];
    const output = toolOutput('k3d', ['cluster', 'create'], 9, (line) => shown.push(line));
    output.line('INFO[0000] Prep: Network');
    output.end({ exitCode: 0 });
    expect(shown).toEqual(['INFO[0000] Prep: Network']);
    expect(await endToolLog()).toBeUndefined();
  });

  test('a command that runs no tool for the display leaves no log file', async () => {
    startToolLog('list', false);
    expect(await endToolLog()).toBeUndefined();
  });
});
