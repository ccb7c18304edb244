import { msOptionalToNumber } from '@temporalio/common/lib/time';
import { contractTiming, type ResolvedTiming } from './timing';

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
      ms = typeof value === 'number' || typeof value === 'string' ? msOptionalToNumber(value as never) : undefined;
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
