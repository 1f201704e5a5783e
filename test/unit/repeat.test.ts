import { repeatUntil } from '../../src/util/repeat.js';

describe('repeatUntil', () => {
  it('calls again until the result is done, and returns that result', async () => {
    let calls = 0;
    const result = await repeatUntil(async () => ++calls, (n) => n === 3, { deadline: Date.now() + 5_000, everyMs: 10 });
    expect(result).toBe(3);
    expect(calls).toBe(3);
  });

  it('gives the last result, not done, once the deadline comes', async () => {
    let calls = 0;
    const result = await repeatUntil(async () => `try ${++calls}`, () => false, { deadline: Date.now() + 200, everyMs: 50 });
    expect(result).toBe(`try ${calls}`);
    expect(calls).toBeGreaterThan(1);
    expect(calls).toBeLessThanOrEqual(5);
  });

  it('stops waiting when the run is interrupted', async () => {
    const interrupt = new AbortController();
    const pending = repeatUntil(async () => 'none yet', () => false, { deadline: Date.now() + 60_000, everyMs: 1_000, signal: interrupt.signal });
    interrupt.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });
});
