import type { CampaignTarget } from '../../src/workflows/campaign-types';

/**
 * Benchmark 1's clock: one API minute lasts one second. The simulator scales call durations and its rate-limit
 * window by `timeScale`; the workflows get the contract's durations divided by 60 through `timing`.
 */
export const minuteScale = {
  timeScale: 1 / 60,
  /** The API's window (60 s) at this scale. */
  windowMs: 1000,
  /** The API's limit per window. */
  limit: 10,
  /** The contract's 10 s poll at this scale (166.7 ms, rounded as the brief has it). */
  pollMs: 167,
  /** A call at the simulator: queued 3 s + dialing 5 s + in progress 26 s = 34 s of API time. */
  callMs: (34_000 * 1) / 60,
  timing: {
    rateWindow: '1s',
    // A child's create reaches the API 0.15–0.45 s after the pacer starts it; that jitter does not shrink with the
    // scaled window (2% of 1 s would be 20 ms), so the margin is stated: 0.4 s.
    rateMargin: '400ms',
    pollInterval: '167ms',
    callTimeout: '5s',
    rateLimitWait: '1s',
    enrichmentInterval: '33ms',
  },
} as const;

/** `n` distinct valid numbers outside the simulator's magic block: every call ends `achieved`. */
export function benchTargets(n: number): CampaignTarget[] {
  return Array.from({ length: n }, (_, i) => ({
    toPhoneNumber: `+1415${String(2_000_000 + i).padStart(7, '0')}`,
    objective: `Ask about opening hours (${i + 1})`,
  }));
}

/** ms → "1.23 s" / "123 ms" */
export function ms(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return 'n/a';
  return Math.abs(value) >= 1000 ? `${(value / 1000).toFixed(digits)} s` : `${value.toFixed(0)} ms`;
}

/** API-equivalent duration of a scaled one: ms × 60, shown in minutes or hours. */
export function apiTime(scaledMs: number): string {
  const s = (scaledMs * 60) / 1000;
  if (s >= 3600) return `${(s / 3600).toFixed(2)} h`;
  if (s >= 60) return `${(s / 60).toFixed(1)} min`;
  return `${s.toFixed(1)} s`;
}
