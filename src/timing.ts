import type { Duration } from '@temporalio/common';

/** Overrides of the contract's durations, for demos and benchmarks. Durations are ms numbers or strings like '10s'. */
export interface Timing {
  /** Between two status reads. @default '10s' (the contract) */
  pollInterval?: Duration;
  /** From the call's creation until it is given up as timed out. @default '5m' (the contract) */
  callTimeout?: Duration;
  /** After a 429, before the one retry. @default '60s' (the contract) */
  rateLimitWait?: Duration;
  /** Extra reads when a completed call still lacks its transcript or summary. @default 2 (the contract) */
  enrichmentPolls?: number;
  /** Between those extra reads. @default '2s' (the contract) */
  enrichmentInterval?: Duration;
}

export interface ResolvedTiming {
  pollIntervalMs: number;
  callTimeoutMs: number;
  rateLimitWaitMs: number;
  enrichmentPolls: number;
  enrichmentIntervalMs: number;
}

/** The durations the AgentPhone contract prescribes. */
export const contractTiming: Readonly<ResolvedTiming> = Object.freeze({
  pollIntervalMs: 10_000,
  callTimeoutMs: 5 * 60_000,
  rateLimitWaitMs: 60_000,
  enrichmentPolls: 2,
  enrichmentIntervalMs: 2_000,
});
