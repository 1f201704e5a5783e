import { describe, expect, test } from '@jest/globals';
import { once } from 'node:events';
import { deadline } from '../../src/util/deadline.js';

describe('deadline', () => {
  test('aborts with a TimeoutError once its time is up', async () => {
    const limit = deadline(20);
    await once(limit.signal, 'abort');
    expect((limit.signal.reason as DOMException).name).toBe('TimeoutError');
  });

  test("follows the caller's signal, with its reason, before the time is up", () => {
    const caller = new AbortController();
    const limit = deadline(60_000, caller.signal);
    caller.abort(new Error('interrupted'));
    expect(limit.signal.aborted).toBe(true);
    expect((limit.signal.reason as Error).message).toBe('interrupted');
  });

  test('is aborted from the start when the caller already is, and holds no timer', () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    const limit = deadline(60_000, AbortSignal.abort(new Error('gone')));
    expect((limit.signal.reason as Error).message).toBe('gone');
    expect(timers()).toBe(before);
  });

  test('cleared, it neither times out nor follows the caller', async () => {
    const caller = new AbortController();
    const limit = deadline(10, caller.signal);
    limit.clear();
    await new Promise((resolve) => setTimeout(resolve, 40));
    caller.abort();
    expect(limit.signal.aborted).toBe(false);
  });
});
