/**
 * The forge against the real Go toolchain and module proxy: k3d built from its module source
 * (skipped when current), and the CLI's --list reporting what is present.
 */
import { describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { join } from 'node:path';
import { k3dTool } from '../../src/forge/catalog.js';
import { ensureGoTool, goToolStatus } from '../../src/forge/go-tool.js';
import { packageRoot } from '../../src/util/paths.js';

const MINUTE = 60_000;

describe('Go tools', () => {
  test('k3d is built once, stamped with its version, then skipped', async () => {
    const first = await ensureGoTool(k3dTool);
    console.log(`k3d: ${first.skipped ? 'cached' : `built in ${(first.durationMs / 1000).toFixed(1)} s`}, ${((first.sizeBytes ?? 0) / 1e6).toFixed(1)} MB`);
    const { stdout } = await execa(first.location, ['version']);
    expect(stdout).toMatch(/^k3d version v5\.9\.0$/m);
    const again = await ensureGoTool(k3dTool);
    expect(again.skipped).toBe(true);
    expect(again.location).toBe(first.location);
    expect((await goToolStatus(k3dTool)).present).toBe(true);
  }, 30 * MINUTE);

  test('a different version is not mistaken for the built one', async () => {
    expect((await goToolStatus({ ...k3dTool, version: 'v5.8.3' })).present).toBe(false);
  });

  test('an unknown module version fails with the go error and leaves no build dir', async () => {
    const bogus = { name: 'k3d-bogus', module: 'github.com/k3d-io/k3d/v5', version: 'v5.0.999' };
    await expect(ensureGoTool(bogus)).rejects.toThrow(/go mod for k3d-bogus \(github.com\/k3d-io\/k3d\/v5@v5.0.999\) failed/);
    const { stdout } = await execa('ls', ['-a', (await goToolStatus(k3dTool)).location.replace(/\/k3d$/, '')]);
    expect(stdout).not.toMatch(/\.build-k3d-bogus/);
  }, 5 * MINUTE);
});

describe('kubelab forge --list', () => {
  test('lists every item with its state and sources', async () => {
    const result = await execa(process.execPath, [join(packageRoot(), 'bin', 'kubelab.js'), 'forge', '--list'], { reject: false });
    expect(result.exitCode).toBe(0);
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
