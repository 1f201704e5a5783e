/**
 * A promise rejected with nobody waiting must not end kubelab on the spot (Node's default), which
 * would skip every cleanup: the run is stopped, its cleanup runs, and the exit is non-zero naming it.
 * Driven through the compiled CLI's main() in a child process, with a rejection nobody handles.
 */
import { describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { packageRoot } from '../../src/util/paths.js';

describe('an unhandled rejection during a command', () => {
  test('is reported, the command still finishes through main(), and the exit code is 1', async () => {
    const main = pathToFileURL(join(packageRoot(), 'dist', 'src', 'cli', 'main.js')).href;
    const script = [
      `import { main } from ${JSON.stringify(main)};`,
      "setTimeout(() => void Promise.reject(new Error('boom from nowhere')), 0);",
      "const code = await main(['node', 'kubelab', 'list']);",
      "process.stdout.write(`main returned ${code}\\n`);",
      'process.exitCode = code;',
    ].join('\n');
    const result = await execa(process.execPath, ['--input-type=module', '-e', script], { reject: false, env: { CI: 'true' } });
    expect(result.stderr).toContain('kubelab: internal error, stopping and cleaning up: boom from nowhere');
    // Without the handler Node would have exited before main() returned.
    expect(result.stdout).toMatch(/LESSON\s+CLUSTER/);
    expect(result.stdout).toContain('main returned 1');
    expect(result.exitCode).toBe(1);
  }, 60_000);
});
