/**
 * How a child process's end is reported, with real processes: an exit code with its output, a
 * signal that killed it, and an interruption (Ctrl-C reaching the child, or kubelab's own abort),
 * which is reported as such and never as a failure with an empty reason.
 */
import { describe, expect, test } from '@jest/globals';
import { run, runAllowingFailure } from '../../src/util/exec.js';

describe('run', () => {
  test('a non-zero exit names the command, the code and its output', async () => {
    await expect(run('sh', ['-c', 'echo broken >&2; exit 3'])).rejects.toThrow('sh -c echo broken >&2; exit 3 exited with 3: broken');
    await expect(run('sh', ['-c', 'exit 4'])).rejects.toThrow('exited with 4: (no output)');
  });

  test('a child killed by a signal says which', async () => {
    await expect(run('sh', ['-c', 'kill -KILL $$'])).rejects.toThrow(/sh -c kill -KILL \$\$ was killed by SIGKILL: \(no output\)/);
  });

  test('a child that dies of the terminal\'s SIGINT is an interruption', async () => {
    const error = await runAllowingFailure('sh', ['-c', 'kill -INT $$']).then(() => undefined, (e: Error) => e);
    expect(error).toMatchObject({ name: 'AbortError', message: 'sh was interrupted (SIGINT)' });
  });

  test('kubelab\'s own abort stops the child and is an interruption', async () => {
    const controller = new AbortController();
    const sleeping = runAllowingFailure('sleep', ['30'], { signal: controller.signal });
    controller.abort();
    await expect(sleeping).rejects.toMatchObject({ name: 'AbortError', message: 'sleep was cancelled' });
  });
});
