/**
 * Seeded pseudo-random numbers (mulberry32): every training run with the same seed draws the
 * same sequence, so the same command writes the same model file.
 */
export type Random = () => number;

/**
 * The seed of the i-th of several independent draws from one user seed is `seed + i · SEED_STEP`
 * (a prime far from 1, so the draws of neighbouring user seeds do not overlap).
 */
export const SEED_STEP = 7919;

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer in [0, n). */
export function randomInt(random: Random, n: number): number {
  return Math.floor(random() * n);
}

/** Fisher-Yates shuffle in place. */
export function shuffleInPlace<T>(random: Random, items: T[] | Uint32Array | Int32Array): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
}

/** Standard normal draw (Box-Muller). */
export function randomNormal(random: Random): number {
  let u = 0;
  while (u === 0) u = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
