import { describe, expect, test } from '@jest/globals';
import { forgePlan } from '../../src/forge/catalog.js';
import { ForgeQueue } from '../../src/forge/queue.js';
import type { ForgeItem, ForgeResult } from '../../src/forge/types.js';
import { exclusive } from '../../src/util/exclusive.js';

/** A promise the test settles by hand, so order is decided by the test and not by timers. */
function gate(): { promise: Promise<void>; open(): void; fail(error: Error): void } {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => ((open = resolve), (fail = reject)));
  return { promise, open, fail };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

function fakeItem(name: string, present: boolean, needs: string[] = []): ForgeItem {
  const result: ForgeResult = { present: true, location: `img/${name}`, skipped: false, durationMs: 0 };
  return {
    name,
    kind: 'image',
    location: `img/${name}`,
    sources: 'test',
    needs: needs.map((n) => `img/${n}`),
    status: async () => ({ present, location: `img/${name}` }),
    ensure: async () => result,
  };
}

describe('ForgeQueue', () => {
  test('builds at most `jobs` items at once and every item once', async () => {
    const items = ['a', 'b', 'c', 'd'].map((n) => fakeItem(n, false));
    const queue = new ForgeQueue(items, 2);
    const gates = new Map(items.map((i) => [i.name, gate()]));
    const started: string[] = [];
    const runs = items.map((item) =>
      queue.run(item, async () => {
        started.push(item.name);
        await gates.get(item.name)!.promise;
      }),
    );
    await flush();
    expect(started).toEqual(['a', 'b']);
    gates.get('b')!.open();
    await flush();
    expect(started).toEqual(['a', 'b', 'c']);
    gates.get('a')!.open();
    gates.get('c')!.open();
    gates.get('d')!.open();
    await Promise.all(runs);
    expect(started).toEqual(['a', 'b', 'c', 'd']);
  });

  test('an item starts only after the item that makes what it needs has finished', async () => {
    const base = fakeItem('base', false);
    const node = fakeItem('node', false, ['base']);
    const queue = new ForgeQueue([base, node], 3);
    const baseGate = gate();
    const events: string[] = [];
    const waits: string[] = [];
    const runs = [
      queue.run(base, async () => {
        events.push('base started');
        await baseGate.promise;
        events.push('base done');
      }),
      queue.run(node, async () => events.push('node started'), (line) => waits.push(line)),
    ];
    await flush();
    expect(events).toEqual(['base started']);
    expect(waits).toEqual(['waiting for base']);
    baseGate.open();
    await Promise.all(runs);
    expect(events).toEqual(['base started', 'base done', 'node started']);
  });

  test('an item whose maker failed is not built and says which maker failed', async () => {
    const base = fakeItem('base', false);
    const node = fakeItem('node', false, ['base']);
    const queue = new ForgeQueue([base, node], 3);
    let nodeBuilt = false;
    const baseRun = queue.run(base, async () => {
      throw new Error('debootstrap failed');
    });
    const nodeRun = queue.run(node, async () => {
      nodeBuilt = true;
    });
    await expect(baseRun).rejects.toThrow('debootstrap failed');
    await expect(nodeRun).rejects.toThrow('made from base, which failed');
    expect(nodeBuilt).toBe(false);
  });
});

describe('exclusive', () => {
  test('calls with one key run one after another; other keys are not held up', async () => {
    const first = gate();
    const events: string[] = [];
    const a1 = exclusive('k', async () => {
      events.push('a1 start');
      await first.promise;
      events.push('a1 end');
    });
    const a2 = exclusive('k', async () => events.push('a2 start'));
    const b = exclusive('other', async () => events.push('b start'));
    await flush();
    expect(events).toEqual(['a1 start', 'b start']);
    first.open();
    await Promise.all([a1, a2, b]);
    expect(events).toEqual(['a1 start', 'b start', 'a1 end', 'a2 start']);
  });

  test('a failed call does not stop the next one with the same key', async () => {
    await expect(exclusive('f', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(exclusive('f', async () => 'ran')).resolves.toBe('ran');
  });
});

describe('forgePlan', () => {
  const catalog = [fakeItem('addon', false), fakeItem('pause', true), fakeItem('node', false, ['pause', 'addon']), fakeItem('tool', true)];

  test('a missing item brings the missing items it is made from, in catalog order; present makers stay out', async () => {
    const plan = await forgePlan(['node'], false, catalog);
    expect(plan.map((p) => [p.item.name, p.asked, p.builds])).toEqual([
      ['addon', false, true],
      ['node', true, true],
    ]);
  });

  test('a present item asked for is listed but not built, and its makers are not looked at', async () => {
    const plan = await forgePlan(['tool', 'pause'], false, catalog);
    expect(plan.map((p) => [p.item.name, p.asked, p.builds])).toEqual([
      ['pause', true, false],
      ['tool', true, false],
    ]);
  });

  test('--force rebuilds what was asked for, not what it is made from', async () => {
    const plan = await forgePlan(['pause', 'node'], true, catalog);
    expect(plan.map((p) => [p.item.name, p.asked, p.builds])).toEqual([
      ['addon', false, true],
      ['pause', true, true],
      ['node', true, true],
    ]);
  });
});
