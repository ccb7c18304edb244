import { ApplicationFailure } from '@temporalio/workflow';
import { parseClock } from '../campaign/calling-window';
import { FailureType } from '../failures';
import { resolveTiming } from '../timing-check';
import type { CampaignInput } from './campaign-types';
import { nameProblem } from './decision-rules';

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
  share: number;
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
  if (typeof i.name !== 'string' || !i.name.trim() || [...i.name].length > 200 || /[\p{Cc}\p{Cf}]/u.test(i.name)) {
    problems.push('name must be 1–200 characters (no control characters)');
  }
  if (!i.carry && (i.targets === undefined) === (i.targetsCsvPath === undefined)) {
    problems.push('pass exactly one of targets and targetsCsvPath');
  }
  if (i.targets !== undefined && !Array.isArray(i.targets)) problems.push('targets must be an array');
  if (
    i.targetsCsvPath !== undefined &&
    (typeof i.targetsCsvPath !== 'string' || !i.targetsCsvPath || i.targetsCsvPath.length > 4096)
  ) {
    problems.push('targetsCsvPath must be a file path of at most 4,096 characters');
  }
  const approvalTimeout = i.approval?.timeout ?? '24h';
  const approvalTimeoutMs = typeof approvalTimeout === 'string' ? durationMs(approvalTimeout) : undefined;
  if (approvalTimeoutMs === undefined || approvalTimeoutMs < 1000 || approvalTimeoutMs > 30 * 86_400_000) {
    problems.push('approval.timeout must be a duration from 1s to 30d, such as 24h');
  }
  const approvers = i.approval?.approvers;
  if (
    approvers !== undefined &&
    (!Array.isArray(approvers) ||
      approvers.length === 0 ||
      approvers.length > 100 ||
      approvers.some((a) => nameProblem(a)))
  ) {
    problems.push('approval.approvers must be a list of 1–100 names, each 1–100 visible characters');
  }
  const window = i.callingWindow;
  if (window !== undefined) {
    const start = typeof window?.start === 'string' ? parseClock(window.start) : undefined;
    const end = typeof window?.end === 'string' ? parseClock(window.end) : undefined;
    // start after end is the documented overnight rule (22:00–06:00 wraps midnight); equal bounds mean nothing.
    if (start === undefined || end === undefined || start === end) {
      problems.push('callingWindow needs start and end as HH:MM, two different 24-hour times, e.g. 08:00 and 21:00');
    }
    const zone = window?.defaultTimezone;
    if (zone !== undefined && (typeof zone !== 'string' || !/^[A-Za-z0-9_+\-/]{1,64}$/.test(zone))) {
      problems.push('callingWindow.defaultTimezone must be an IANA zone such as America/New_York');
    }
  }
  if (i.timing !== undefined) {
    const { rateWindow: _w, rateMargin: _m, ...callTiming } = (typeof i.timing === 'object' && i.timing) || {};
    const checked = resolveTiming(typeof i.timing === 'object' ? callTiming : i.timing);
    if (!checked.ok) problems.push(checked.message.replace(/\.$/, ''));
  }
  const rateWindowMs = durationMs(i.timing?.rateWindow ?? '60s');
  if (rateWindowMs === undefined || rateWindowMs < 100 || rateWindowMs > 3_600_000) {
    problems.push('timing.rateWindow must be a duration from 100ms to 1h, such as 60s');
  }
  const rateMarginMs = i.timing?.rateMargin === undefined ? undefined : durationMs(i.timing.rateMargin);
  if (i.timing?.rateMargin !== undefined && (rateMarginMs === undefined || rateMarginMs > (rateWindowMs ?? 60_000))) {
    problems.push('timing.rateMargin must be a duration no longer than the rate window, such as 500ms');
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
    share: shareOf(i.share),
    historyLimit: int('historyLimit', i.historyLimit, 10_000, 200, 40_000),
    callEstimateMs: 60_000,
    ...(i.timing ? { timing: i.timing } : {}),
  };
  function shareOf(value: unknown): number {
    if (value === undefined) return 1;
    if (typeof value !== 'number' || !(value > 0 && value <= 100)) {
      problems.push('share must be a number above 0 and at most 100');
      return 1;
    }
    return value;
  }
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
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
