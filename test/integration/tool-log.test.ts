/**
 * Plain output (CI, pipes) shows kubelab's own progress lines; the tools' output goes to the
 * command's log file, named last on stderr (issue 10, item 7). Real `kubelab forge` runs: go
 * building k3d from its module (into this file's own tools dir), and debootstrap failing against
 * a mirror that refuses connections. Each in its own state dir, so the log is the run's alone.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';

const MINUTE = 60_000;
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'kubelab-it-tool-log-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** `kubelab forge --force ITEM` without a terminal, in a state dir of its own. */
async function plainForge(item: string, env: Record<string, string> = {}) {
  const home = await mkdtemp(join(scratch, 'home-'));
  const result = await execa(process.execPath, [join(packageRoot(), 'bin', 'kubelab.js'), 'forge', '--force', item], {
    reject: false,
    env: { CI: 'true', KUBELAB_HOME: home, ...env },
  });
  const named = /^tool output: (.+)$/m.exec(result.stderr)?.[1];
  const logged = named ? await readFile(named, 'utf8') : '';
  // What the tools printed: the log's lines without its "hh:mm:ss tool[pid] " prefix, less the
  // command lines and exit lines the log adds around each tool.
  const toolLines = logged
    .split('\n')
    .map((line) => line.replace(/^\d\d:\d\d:\d\d \S+\[\d+\] /, ''))
    .filter((line) => line && !line.startsWith('$ ') && !/^(exited with \d+|killed by \w+|did not start) after /.test(line));
  return { ...result, home, named, logged, toolLines };
}

/** The progress lines of `printed` (listr2's plain "› line") that are some tool's output. */
const toolLinesIn = (printed: string, toolLines: string[]) => {
  const tools = new Set(toolLines.map((line) => line.trim()));
  return printed.split('\n').filter((line) => line.startsWith('› ') && tools.has(line.slice(2).trim()));
};

describe('kubelab forge in plain output', () => {
  test('prints its own progress lines, and the go output only into the log it names', async () => {
    const tools = await mkdtemp(join(scratch, 'tools-'));
    const run = await plainForge('k3d', { KUBELAB_TOOLS: tools });
    expect(run.exitCode).toBe(0);
    expect(run.named).toMatch(new RegExp(`^${run.home}/logs/forge-[^/]+\\.log$`));
    // `go mod download -json` printed its JSON, which used to reach the screen line by line.
    expect(run.logged).toMatch(/go\[\d+\] \$ go mod download -json github\.com\/k3d-io\/k3d\/v5@v5\.9\.0\n/);
    expect(run.toolLines).toContainEqual(expect.stringMatching(/"Path": "github\.com\/k3d-io\/k3d\/v5"/));
    expect(run.logged).toMatch(/go\[\d+\] exited with 0 after/);
    expect(toolLinesIn(run.stdout, run.toolLines)).toEqual([]);
    expect(run.stdout).toMatch(/^✔ k3d: built in [\d.]+ s, [\d.]+ MB \(.+\/k3d\)$/m);
  }, 30 * MINUTE);

  test('a failing tool: its tail in the error, all of its output in the log, named last', async () => {
    expect(process.getuid?.()).toBe(0); // debootstrap needs root
    const run = await plainForge('nginx base', { KUBELAB_DEBIAN_MIRROR: 'http://127.0.0.1:9/debian' });
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toMatch(/kubelab: nginx base: debootstrap bookworm from http:\/\/127\.0\.0\.1:9\/debian for kubelab\/nginx:\w+ failed \(exit 1\):\n(.+\n)*E: Failed getting release file/);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe(`tool output: ${run.named}`);
    expect(run.logged).toMatch(/debootstrap\[\d+\] E: Failed getting release file http:\/\/127\.0\.0\.1:9\/debian\/dists\/bookworm\/Release\n/);
    expect(run.logged).toMatch(/debootstrap\[\d+\] exited with 1 after/);
    expect(toolLinesIn(run.stdout, run.toolLines)).toEqual([]);
  }, 5 * MINUTE);
});
