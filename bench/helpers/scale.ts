import { type CampaignTarget } from '../../src/shared/targets';
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
  /**
   * A campaign's timing. No `rateMargin`: the key's dial gate counts each create from the moment its answer came
   * back, so the campaign no longer paces itself and needs no margin for the jitter between a child's start and its
   * create.
   */
  timing: {
    rateWindow: '1s',
    pollInterval: '167ms',
    callTimeout: '5s',
    rateLimitWait: '1s',
    enrichmentInterval: '33ms',
  },
  /** A single call's timing at this scale (`placeCallWorkflow` has no rate window). */
  callTiming: { pollInterval: '167ms', callTimeout: '5s', rateLimitWait: '1s', enrichmentInterval: '33ms' },
  /**
   * The margin the package before the gate documented for this scale: its pacer counted child starts, and a child's
   * create reached the API 0.15–0.45 s later, a jitter that does not shrink with the window (its default, 2% of the
   * window, would be 20 ms here).
   */
  beforeRateMargin: '400ms',
} as const;

/** `n` distinct valid numbers outside the simulator's magic block: every call ends `achieved`. */
export function benchTargets(n: number, first = 2_000_000): CampaignTarget[] {
  return Array.from({ length: n }, (_, i) => ({
    toPhoneNumber: benchNumber(first + i),
    objective: `Ask about opening hours (${i + 1})`,
  }));
}

/** `+1415` and seven digits: a valid US number the simulator calls normally. */
export const benchNumber = (n: number) => `+1415${String(n).padStart(7, '0')}`;

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
