/** The seed of this run: FAULTS_SEED repeats a schedule, otherwise a fresh one (printed, so any run can be repeated). */
export function seedFromEnv(): number {
  const fromEnv = process.env.FAULTS_SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    const seed = Number(fromEnv);
    if (!Number.isInteger(seed) || seed < 0)
      throw new Error(`FAULTS_SEED must be a non-negative integer, got ${fromEnv}`);
    return seed >>> 0;
  }
  return Math.floor(Math.random() * 2 ** 32) >>> 0;
}

export interface Prng {
  /** [0, 1) */
  next(): number;
  /** A whole number in [min, max]. */
  int(min: number, max: number): number;
  /** `count` distinct whole numbers in [min, max], ascending. */
  distinct(count: number, min: number, max: number): number[];
  hex(bytes: number): string;
}

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function prng(seed: number): Prng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    distinct(count, min, max) {
      if (count > max - min + 1) throw new RangeError(`cannot pick ${count} distinct numbers in [${min}, ${max}]`);
      const picked = new Set<number>();
      while (picked.size < count) picked.add(int(min, max));
      return [...picked].sort((x, y) => x - y);
    },
    hex(bytes) {
      return Array.from({ length: bytes }, () => int(0, 255).toString(16).padStart(2, '0')).join('');
    },
  };
}
