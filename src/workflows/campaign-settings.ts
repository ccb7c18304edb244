import { ApplicationFailure } from '@temporalio/workflow';
import { FailureType } from '../failures';
import type { CampaignInput } from './campaign-types';

/** The campaign's options, checked and resolved once at the start of every run. */
export interface Settings {
  maxConcurrentCalls: number;
  callsPerMinute: number;
  rateWindowMs: number;
  rateMarginMs: number;
  rateLimitWaitMs: number;
  approvalTimeout: string;
  approvalTimeoutMs: number;
  approvers?: string[];
  pilotCalls: number;
  historyLimit: number;
  callEstimateMs: number;
  timing?: CampaignInput['timing'];
}

/** Checks the numeric options once; a bad one fails the campaign at once with InvalidInput, before anything runs. */
export function resolveSettings(input: CampaignInput): Settings {
  const problems: string[] = [];
  const int = (name: string, value: unknown, fallback: number, min: number, max: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  if (!input || typeof input !== 'object') problems.push('the argument must be an object');
  const i = (input ?? {}) as CampaignInput;
  if (typeof i.name !== 'string' || !i.name.trim() || i.name.length > 200) problems.push('name must be 1–200 characters');
  if (!i.carry && (i.targets === undefined) === (i.targetsCsvPath === undefined)) {
    problems.push('pass exactly one of targets and targetsCsvPath');
  }
  const approvalTimeout = i.approval?.timeout ?? '24h';
  const approvalTimeoutMs = durationMs(approvalTimeout);
  if (approvalTimeoutMs === undefined || approvalTimeoutMs < 1000) problems.push('approval.timeout must be a duration such as 24h');
  const approvers = i.approval?.approvers;
  if (approvers !== undefined && (!Array.isArray(approvers) || approvers.length === 0 || approvers.some((a) => typeof a !== 'string' || !a.trim()))) {
    problems.push('approval.approvers must be a non-empty list of names');
  }
  const window = i.callingWindow;
  if (window && (!/^\d\d:\d\d$/.test(window.start ?? '') || !/^\d\d:\d\d$/.test(window.end ?? '') || window.start === window.end)) {
    problems.push('callingWindow needs start and end as HH:MM, e.g. 08:00 and 21:00');
  }
  const rateWindowMs = durationMs(i.timing?.rateWindow ?? '60s');
  if (rateWindowMs === undefined || rateWindowMs < 100) problems.push('timing.rateWindow must be a duration such as 60s');
  const rateMarginMs = i.timing?.rateMargin === undefined ? undefined : durationMs(i.timing.rateMargin);
  if (i.timing?.rateMargin !== undefined && rateMarginMs === undefined) {
    problems.push('timing.rateMargin must be a duration such as 500ms');
  }
  const settings: Settings = {
    maxConcurrentCalls: int('maxConcurrentCalls', i.maxConcurrentCalls, 5, 1, 1000),
    callsPerMinute: int('callsPerMinute', i.callsPerMinute, 10, 1, 10_000),
    rateWindowMs: rateWindowMs ?? 60_000,
    // A child creates its call a moment after it starts, and that moment varies (a few hundred ms on a busy worker):
    // windows spaced wider by more than that variation keep the API's own count under the limit. 2% of a real
    // minute (1.2 s) covers it; a scaled-down window (benchmarks) must say its margin in timing.rateMargin.
    rateMarginMs: rateMarginMs ?? Math.ceil((rateWindowMs ?? 60_000) * 0.02),
    rateLimitWaitMs: toMs(i.timing?.rateLimitWait) ?? 60_000,
    approvalTimeout,
    approvalTimeoutMs: approvalTimeoutMs ?? 86_400_000,
    ...(approvers ? { approvers } : {}),
    pilotCalls: int('pilotCalls', i.pilotCalls, 0, 0, 10_000),
    historyLimit: int('historyLimit', i.historyLimit, 10_000, 200, 40_000),
    callEstimateMs: 60_000,
    ...(i.timing ? { timing: i.timing } : {}),
  };
  if (problems.length) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      message: `The campaign cannot start: ${problems.join('; ')}.`,
      nonRetryable: true,
    });
  }
  return settings;
}

function toMs(value: number | string | undefined): number | undefined {
  return typeof value === 'number' ? value : value === undefined ? undefined : durationMs(value);
}

/** The durations a campaign accepts: a number and ms, s, m, h or d ('24h'). */
export function durationMs(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
