/**
 * The benches' arithmetic: medians, and how far a ratio of medians can be trusted when each side
 * swings from run to run (kind's create: several seconds, from when its kubelets first report Ready).
 */

/** The middle value; with an even count, the mean of the two middle ones (favouring neither side). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of no values');
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A small seeded generator (mulberry32): the same samples give the same interval on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * The 95% bootstrap interval of median(ours) / median(theirs): each side resampled with replacement
 * (the sides are measured apart, so apart too), the ratio taken each time, its 2.5th and 97.5th
 * percentiles kept. A ratio whose interval straddles the goal is the machine's swing, not a verdict.
 */
export function ratioInterval(ours: readonly number[], theirs: readonly number[], resamples = 10_000, seed = 1): [number, number] {
  if (ours.length === 0 || theirs.length === 0) throw new Error('ratio interval of no values');
  const random = seededRandom(seed);
  const resample = (xs: readonly number[]) => Array.from({ length: xs.length }, () => xs[Math.floor(random() * xs.length)]!);
  const ratios = Array.from({ length: resamples }, () => median(resample(ours)) / median(resample(theirs))).sort((a, b) => a - b);
  const at = (q: number) => ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))]!;
  return [at(0.025), at(0.975)];
}

/** Every order of `items` (n! of them, for the benches' two or three sides). */
function orders<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((first, i) => orders([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [first, ...rest]));
}

/**
 * The order of the sides in round `round` (from 1): the rounds go through every order in turn, so
 * each side goes first, and comes right after each other side (whose delete's aftermath it pays for),
 * equally often over a multiple of n! rounds. A plain rotation gives each side the same predecessor
 * in every round.
 */
export function roundOrder<T>(sides: readonly T[], round: number): T[] {
  const all = orders(sides);
  return all[(round - 1) % all.length]!;
}
