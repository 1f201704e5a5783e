import { describe, expect, test } from '@jest/globals';
import { CleanupFailedError, ExitCode, InterruptedError } from '../../src/errors.js';
import { isApiUnreachable } from '../../src/kube/api-get.js';
import { cleaningUp, CleanupStack, describeLeftovers } from '../../src/util/cleanup.js';

describe('CleanupStack', () => {
  test('undoes newest first, keeps going after a failure and reports it', async () => {
    const order: string[] = [];
    const stack = new CleanupStack();
    stack.register('temp dir', () => void order.push('temp dir'));
    stack.register('cluster', () => {
      order.push('cluster');
      throw new Error('docker gone');
    });
    stack.register('kubeconfig', async () => void order.push('kubeconfig'));
    expect(await stack.runAll()).toEqual(['cluster: docker gone']);
    expect(order).toEqual(['kubeconfig', 'cluster', 'temp dir']);
    expect(stack.size).toBe(0);
  });
  test('a failed undo names the command that removes it by hand', async () => {
    const stack = new CleanupStack();
    stack.register('delete kind cluster x', () => Promise.reject(new Error('exited with 128')), 'kind delete cluster --name x');
    expect(await stack.runAll()).toEqual(['delete kind cluster x: exited with 128 (remove it with: kind delete cluster --name x)']);
  });
  test('while an undo runs, it and the entries after it are reported as left behind; none once done', async () => {
    const stack = new CleanupStack();
    let release!: () => void;
    stack.register('remove temp dir', () => undefined);
    stack.register('delete k3d cluster y', () => new Promise<void>((resolve) => (release = resolve)), 'k3d cluster delete y');
    const running = stack.runAll();
    expect(describeLeftovers()).toEqual(['  delete k3d cluster y: k3d cluster delete y', '  remove temp dir']);
    release();
    await running;
    expect(describeLeftovers()).toEqual([]);
  });
  test('concurrent runAll calls share one pass (a signal during cleanup does not double-delete)', async () => {
    let calls = 0;
    const stack = new CleanupStack();
    stack.register('x', async () => void (calls += 1));
    await Promise.all([stack.runAll(), stack.runAll()]);
    expect(calls).toBe(1);
  });
  test('clear hands everything to the user', async () => {
    let ran = false;
    const stack = new CleanupStack();
    stack.register('cluster', () => void (ran = true));
    stack.clear();
    await stack.runAll();
    expect(ran).toBe(false);
  });
});

describe('cleaningUp', () => {
  test('a step that failed and a cleanup that failed: one error, exit 4, naming both', async () => {
    const error = await cleaningUp(
      () => Promise.reject(new InterruptedError('interrupted by SIGINT')),
      async () => ['delete k3d cluster x: containers remain (remove it with: k3d cluster delete x)'],
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CleanupFailedError);
    expect((error as CleanupFailedError).exitCode).toBe(ExitCode.cleanupFailed);
    expect((error as Error).message).toBe(
      'interrupted by SIGINT\ncleanup failed, left behind:\n  delete k3d cluster x: containers remain (remove it with: k3d cluster delete x)',
    );
  });
  test('a step that failed with a clean cleanup throws the step\'s own error; a step that passed returns the failures', async () => {
    const stepError = new Error('apply failed');
    await expect(cleaningUp(() => Promise.reject(stepError), async () => [])).rejects.toBe(stepError);
    expect(await cleaningUp(async () => 7, async () => ['left'])).toEqual({ value: 7, cleanupFailures: ['left'] });
  });
});

describe('isApiUnreachable', () => {
  test('socket errors, through cause chains, and 503 are an outage; a refusal by the API server is not', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(isApiUnreachable(new Error('request failed', { cause: reset }))).toBe(true);
    expect(isApiUnreachable(Object.assign(new Error('Service Unavailable'), { statusCode: 503 }))).toBe(true);
    expect(isApiUnreachable(Object.assign(new Error('HTTP-Code: 503'), { code: 503 }))).toBe(true);
    expect(isApiUnreachable(Object.assign(new Error('Forbidden'), { statusCode: 403 }))).toBe(false);
    expect(isApiUnreachable(Object.assign(new Error('HTTP-Code: 422'), { code: 422 }))).toBe(false);
  });
});
