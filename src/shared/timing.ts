import type { Duration } from '@temporalio/common';
import ms from 'ms';
import * as contract from '../agentphone/contract';

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
  pollIntervalMs: contract.pollIntervalMs,
  callTimeoutMs: contract.callTimeoutMs,
  rateLimitWaitMs: contract.rateLimitWaitMs,
  enrichmentPolls: contract.enrichmentPolls,
  enrichmentIntervalMs: contract.enrichmentIntervalMs,
});

const bounds = {
  pollInterval: [100, 10 * 60_000],
  callTimeout: [1_000, 24 * 3600_000],
  rateLimitWait: [100, 10 * 60_000],
  enrichmentInterval: [10, 60_000],
} as const;

/** Resolves `timing` against the contract's defaults, or says which field is wrong. */
export function resolveTiming(timing: unknown): { ok: true; timing: ResolvedTiming } | { ok: false; message: string } {
  if (timing === undefined || timing === null) return { ok: true, timing: { ...contractTiming } };
  if (typeof timing !== 'object' || Array.isArray(timing)) return { ok: false, message: 'timing must be an object.' };
  const t = timing as Record<string, unknown>;
  const resolved: ResolvedTiming = { ...contractTiming };

  for (const [field, [min, max]] of Object.entries(bounds)) {
    const value = t[field];
    if (value === undefined) continue;
    let ms: number | undefined;
    try {
      ms = typeof value === 'number' || typeof value === 'string' ? durationOf(value) : undefined;
    } catch {
      ms = undefined;
    }
    if (ms === undefined || !Number.isFinite(ms) || ms < min || ms > max) {
      return { ok: false, message: `timing.${field} must be a duration between ${min} ms and ${max} ms, like '10s'.` };
    }
    resolved[`${field as keyof typeof bounds}Ms`] = ms;
  }
  if (t.enrichmentPolls !== undefined) {
    const n = t.enrichmentPolls;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 10) {
      return { ok: false, message: 'timing.enrichmentPolls must be a whole number from 0 to 10.' };
    }
    resolved.enrichmentPolls = n;
  }
  return { ok: true, timing: resolved };
}

/** A `Duration` as Temporal reads it (a number of ms, or a string for the `ms` package such as '10s'). */
function durationOf(value: number | string): number | undefined {
  if (typeof value === 'number') return value;
  const parsed = ms(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** The durations a campaign accepts: a number and ms, s, m, h or d ('24h'). */
export function durationMs(value: string): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
