import { describe, expect, test } from '@jest/globals';
import { CleanupStack } from '../../src/util/cleanup.js';

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
