/**
 * The forge against the real Go toolchain and module proxy: k3d built from its module source (then
 * skipped when current), and the CLI's --list reporting what is present. The builds go to this
 * file's own tools dir: a build there is certain, and it races no other test building k3d.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { k3dTool } from '../../src/forge/catalog.js';
import { ensureGoBinary, goBinaryStatus } from '../../src/forge/go-tool.js';
import { packageRoot } from '../../src/util/paths.js';

const MINUTE = 60_000;
let tools: string;

beforeAll(async () => {
  tools = await mkdtemp(join(tmpdir(), 'kubelab-it-forge-tools-'));
});

afterAll(async () => {
  await rm(tools, { recursive: true, force: true });
});

describe('Go tools', () => {
  test('k3d is built once, stamped with its version, then skipped', async () => {
    // Forced, so that a build happens whatever this machine has cached.
    const first = await ensureGoBinary(k3dTool, tools, { force: true });
    console.log(`k3d: built in ${(first.durationMs / 1000).toFixed(1)} s, ${((first.sizeBytes ?? 0) / 1e6).toFixed(1)} MB`);
    expect(first.skipped).toBe(false);
    expect(first.location).toBe(join(tools, 'k3d'));
    const { stdout } = await execa(first.location, ['version']);
    expect(stdout).toMatch(/^k3d version v5\.9\.0$/m);
    const again = await ensureGoBinary(k3dTool, tools);
    expect(again.skipped).toBe(true);
    expect(again.location).toBe(first.location);
    expect((await goBinaryStatus(k3dTool, tools)).present).toBe(true);
  }, 30 * MINUTE);

  test('a different version is not mistaken for the built one', async () => {
    expect((await goBinaryStatus(k3dTool, tools)).present).toBe(true);
    expect((await goBinaryStatus({ ...k3dTool, version: 'v5.8.3' }, tools)).present).toBe(false);
  });

  test('an unknown module version fails with the go error and leaves no build dir', async () => {
    const bogus = { name: 'k3d-bogus', module: 'github.com/k3d-io/k3d/v5', version: 'v5.0.999' };
    await expect(ensureGoBinary(bogus, tools)).rejects.toThrow(/go mod for k3d-bogus \(github.com\/k3d-io\/k3d\/v5@v5.0.999\) failed/);
    expect((await readdir(tools)).filter((entry) => entry.includes('k3d-bogus'))).toEqual([]);
  }, 5 * MINUTE);
});

describe('kubelab forge --list', () => {
  test('lists every item with its state and sources', async () => {
    // The k3d built above (tests in a file run in order): present, at its path in that tools dir.
    const result = await execa(process.execPath, [join(packageRoot(), 'bin', 'kubelab.js'), 'forge', '--list'], { reject: false, env: { KUBELAB_TOOLS: tools } });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`${tools}/k3d`);
    expect(result.stdout).toMatch(/^k3d\s+tool\s+present\s+\d+\.\d MB\s+\S+\/k3d\s+github\.com\/k3d-io\/k3d\/v5@v5\.9\.0$/m);
    expect(result.stdout).toMatch(/^python base\s+image\s+(present|missing)/m);
    expect(result.stdout).toMatch(/^k3s node image\s+image\s+(present|missing)/m);
  });

  test('an unknown item is a usage error naming it', async () => {
    const result = await execa(process.execPath, [join(packageRoot(), 'bin', 'kubelab.js'), 'forge', 'minikube'], { reject: false });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/forge: unknown item "minikube"/);
  });
});
