import { median, ratioInterval, roundOrder } from '../../bench/stats.js';

describe('median', () => {
  it('takes the middle of an odd count and the mean of the middle two of an even one', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('refuses no values', () => {
    expect(() => median([])).toThrow('median of no values');
  });
});

describe('ratioInterval', () => {
  it('holds the ratio of the medians and is as wide as the samples swing', () => {
    const bare = [26.1, 27.4, 24.9, 29.8, 25.5, 26.7];
    const ours = [27.0, 28.9, 25.3, 31.2, 26.4, 27.9];
    const [low, high] = ratioInterval(ours, bare);
    const ratio = median(ours) / median(bare);
    expect(low).toBeLessThanOrEqual(ratio);
    expect(high).toBeGreaterThanOrEqual(ratio);
    expect(high - low).toBeGreaterThan(0.05);
  });

  it('is a single point when neither side swings', () => {
    expect(ratioInterval([11, 11, 11], [10, 10, 10])).toEqual([1.1, 1.1]);
  });

  it('stays clear of 1 when the sides are far apart', () => {
    const [low] = ratioInterval([20, 21, 22, 23], [10, 11, 12, 13]);
    expect(low).toBeGreaterThan(1.4);
  });

  it('gives the same interval for the same samples', () => {
    const ours = [5, 7, 6, 9];
    const theirs = [6, 6, 8, 7];
    expect(ratioInterval(ours, theirs)).toEqual(ratioInterval(ours, theirs));
  });
});

describe('roundOrder', () => {
  const sides = ['bare', 'registry', 'import'];
  const sixRounds = [1, 2, 3, 4, 5, 6].map((round) => roundOrder(sides, round));

  it('goes through every order of the sides, then again', () => {
    expect(new Set(sixRounds.map((order) => order.join())).size).toBe(6);
    expect(roundOrder(sides, 7)).toEqual(sixRounds[0]);
  });

  it('puts each side right after each other side equally often', () => {
    const follows = new Map<string, number>();
    for (const order of sixRounds) {
      for (let i = 1; i < order.length; i++) follows.set(`${order[i - 1]}>${order[i]}`, (follows.get(`${order[i - 1]}>${order[i]}`) ?? 0) + 1);
    }
    expect(follows.size).toBe(6);
    expect(new Set(follows.values())).toEqual(new Set([2]));
  });
});
