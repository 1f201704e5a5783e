import { observedUntil } from '../../src/assert/eventually.js';
import type { LessonContext, Observation } from '../../src/lab/types.js';

/** Only what observedUntil reads of a lesson's context. */
const contextWith = (assertionTimeoutMs: number, signal = new AbortController().signal) => ({ assertionTimeoutMs, signal }) as LessonContext;

describe('observedUntil', () => {
  it('observes again until the state holds, and returns that observation', async () => {
    let calls = 0;
    const observation = await observedUntil(contextWith(5_000), 10, async (): Promise<Observation> => {
      calls += 1;
      return { pass: calls === 3, observed: `${calls === 3 ? 12 : 0} rules` };
    });
    expect(observation).toEqual({ pass: true, observed: '12 rules' });
    expect(calls).toBe(3);
  });

  it('gives the last observation, failed, once the deadline comes', async () => {
    let calls = 0;
    const observation = await observedUntil(contextWith(200), 50, async () => ({ pass: false, observed: `try ${++calls}` }));
    expect(observation).toEqual({ pass: false, observed: `try ${calls}` });
    expect(calls).toBeGreaterThan(1);
    expect(calls).toBeLessThanOrEqual(5);
  });

  it('stops waiting when the run is interrupted', async () => {
    const interrupt = new AbortController();
    const pending = observedUntil(contextWith(60_000, interrupt.signal), 1_000, async () => ({ pass: false, observed: 'none yet' }));
    interrupt.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });
});
