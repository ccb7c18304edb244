/** Small, dependency-free statistics for benchmark figures. */

/** The q-quantile (0..1) by linear interpolation between closest ranks; NaN for no values. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export const median = (values: readonly number[]) => quantile(values, 0.5);

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Median with min–max over repeats. */
export function spread(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length };
}

/** "1.02 (1.01–1.04, n=3)" */
export function formatSpread(s: Spread, digits = 2, unit = ''): string {
  const f = (v: number) => `${v.toFixed(digits)}${unit}`;
  return s.n <= 1 ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)}, n=${s.n})`;
}

/** Largest number of timestamps inside any half-open window of `windowMs`, i.e. the API's sliding count. */
export function maxInAnyWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

/** Counts per consecutive window of `windowMs` from `origin`: [count of window 0, window 1, …]. */
export function perWindow(times: readonly number[], origin: number, windowMs: number, windows: number): number[] {
  const counts = Array<number>(windows).fill(0);
  for (const t of times) {
    const i = Math.floor((t - origin) / windowMs);
    if (i >= 0 && i < windows) counts[i]!++;
  }
  return counts;
}
