import { ApplicationFailure } from '@temporalio/workflow';
import { rateLimitWaitMs, rateWindowMs as contractWindowMs } from '../agentphone/contract';
import { parseClock } from '../shared/calling-window';
import { FailureType } from '../shared/failures';
import { durationMs, resolveTiming } from '../shared/timing';
import {
  campaignNameProblem,
  campaignNameRule,
  type CampaignInput,
  campaignOptions,
  type RetryableOutcome,
  retryableOutcomes,
} from '../shared/campaign-types';
import { nameProblem } from '../shared/decisions';

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
  /** The retry ladder, when the campaign has one and runs it. */
  retry?: { on: readonly RetryableOutcome[]; delaysMs: number[]; maxAttempts: number };
}

/**
 * Checks the options once; a bad one fails the campaign at once with InvalidInput, before anything runs.
 *
 * `strict` adds the rules of the hardening (control characters, bounds on every duration and list, real HH:MM, the
 * call timing). A campaign started before them runs on without them: its replay and its continue-as-new must never
 * fail on a rule its input was never checked against. The workflow passes `strict` for new starts only (patched).
 * `ladder` says whether the campaign runs its `retry` ladder: a campaign started before ladders ignores the option.
 */
export function resolveSettings(
  input: CampaignInput,
  { strict = true, ladder = true }: { strict?: boolean; ladder?: boolean } = {},
): Settings {
  const problems: string[] = [];
  const problem = (message: string) => problems.push(message);
  const stricter = (message: string) => strict && problems.push(message);
  const int = (
    name: string,
    value: unknown,
    { default: fallback, min, max }: { default: number; min: number; max: number },
  ): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problem(`${name} must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  if (!input || typeof input !== 'object') problem('the argument must be an object');
  const i = (input ?? {}) as CampaignInput;
  const name = campaignNameProblem(i.name);
  if (name === 'wrong') problem(campaignNameRule);
  else if (name === 'strict') stricter(campaignNameRule);
  if (!i.carry && (i.targets === undefined) === (i.targetsCsvPath === undefined)) {
    problem('pass exactly one of targets and targetsCsvPath');
  }
  if (i.targets !== undefined && !Array.isArray(i.targets)) stricter('targets must be an array');
  if (
    i.targetsCsvPath !== undefined &&
    (typeof i.targetsCsvPath !== 'string' || !i.targetsCsvPath || i.targetsCsvPath.length > 4096)
  ) {
    stricter('targetsCsvPath must be a file path of at most 4,096 characters');
  }
  const approvalTimeout = i.approval?.timeout ?? campaignOptions.approvalTimeout.default;
  const approvalTimeoutMs = durationMs(approvalTimeout);
  const approvalMessage = 'approval.timeout must be a duration from 1s to 30d, such as 24h';
  if (approvalTimeoutMs === undefined || approvalTimeoutMs < campaignOptions.approvalTimeout.minMs)
    problem(approvalMessage);
  else if (approvalTimeoutMs > campaignOptions.approvalTimeout.maxMs) stricter(approvalMessage);
  const approvers = i.approval?.approvers;
  const approversMessage = 'approval.approvers must be a list of 1–100 names, each 1–100 visible characters';
  if (approvers !== undefined) {
    if (
      !Array.isArray(approvers) ||
      approvers.length === 0 ||
      approvers.some((a) => typeof a !== 'string' || !a.trim())
    ) {
      problem(approversMessage);
    } else if (approvers.length > 100 || approvers.some((a) => nameProblem(a))) stricter(approversMessage);
  }
  const window = i.callingWindow;
  if (window !== undefined) {
    const windowMessage =
      'callingWindow needs start and end as HH:MM, two different 24-hour times, e.g. 08:00 and 21:00';
    const hhmm = (v: unknown) => typeof v === 'string' && /^\d\d:\d\d$/.test(v);
    // start after end is the documented overnight rule (22:00–06:00 wraps midnight); equal bounds mean nothing.
    if (!hhmm(window?.start) || !hhmm(window?.end) || window.start === window.end) problem(windowMessage);
    else if (parseClock(window.start) === undefined || parseClock(window.end) === undefined) stricter(windowMessage);
    const zone = window?.defaultTimezone;
    if (zone !== undefined && (typeof zone !== 'string' || !/^[A-Za-z0-9_+\-/]{1,64}$/.test(zone))) {
      stricter('callingWindow.defaultTimezone must be an IANA zone such as America/New_York');
    }
  }
  if (i.timing !== undefined) {
    const { rateWindow: _w, rateMargin: _m, ...callTiming } = (typeof i.timing === 'object' && i.timing) || {};
    const checked = resolveTiming(typeof i.timing === 'object' ? callTiming : i.timing);
    if (!checked.ok) stricter(checked.message.replace(/\.$/, ''));
  }
  const rateWindow = i.timing?.rateWindow ?? undefined;
  const rateWindowMs = rateWindow === undefined ? contractWindowMs : durationMs(rateWindow);
  const rateWindowMessage = 'timing.rateWindow must be a duration from 100ms to 1h, such as 60s';
  if (rateWindowMs === undefined || rateWindowMs < 100) problem(rateWindowMessage);
  else if (rateWindowMs > 3_600_000) stricter(rateWindowMessage);
  const rateMarginMs = i.timing?.rateMargin === undefined ? undefined : durationMs(i.timing.rateMargin);
  const rateMarginMessage = 'timing.rateMargin must be a duration no longer than the rate window, such as 500ms';
  if (i.timing?.rateMargin !== undefined && rateMarginMs === undefined) problem(rateMarginMessage);
  else if (rateMarginMs !== undefined && rateMarginMs > (rateWindowMs ?? contractWindowMs)) stricter(rateMarginMessage);
  const retry = ladder && i.retry !== undefined ? retryOf(i.retry) : undefined;
  const settings: Settings = {
    maxConcurrentCalls: int('maxConcurrentCalls', i.maxConcurrentCalls, campaignOptions.maxConcurrentCalls),
    callsPerMinute: int('callsPerMinute', i.callsPerMinute, campaignOptions.callsPerMinute),
    rateWindowMs: rateWindowMs ?? contractWindowMs,
    // A child creates its call a moment after it starts, and that moment varies (a few hundred ms on a busy worker):
    // windows spaced wider by more than that variation keep the API's own count under the limit. 2% of a real
    // minute (1.2 s) covers it; a scaled-down window (benchmarks) must say its margin in timing.rateMargin.
    rateMarginMs: rateMarginMs ?? Math.ceil((rateWindowMs ?? contractWindowMs) * 0.02),
    rateLimitWaitMs: toMs(i.timing?.rateLimitWait) ?? rateLimitWaitMs,
    approvalTimeout,
    approvalTimeoutMs: approvalTimeoutMs ?? 86_400_000,
    ...(approvers ? { approvers } : {}),
    pilotCalls: int('pilotCalls', i.pilotCalls, campaignOptions.pilotCalls),
    share: shareOf(i.share),
    historyLimit: int('historyLimit', i.historyLimit, campaignOptions.historyLimit),
    callEstimateMs: 60_000,
    ...(i.timing ? { timing: i.timing } : {}),
    ...(retry ? { retry } : {}),
  };
  function shareOf(value: unknown): number {
    if (value === undefined) return 1;
    if (typeof value !== 'number' || !(value > 0 && value <= 100)) {
      stricter('share must be a number above 0 and at most 100');
      return 1;
    }
    return value;
  }
  function retryOf(value: unknown): Settings['retry'] {
    const r = (typeof value === 'object' && value !== null ? value : {}) as Partial<CampaignInput['retry'] & object>;
    const on = r.on;
    const onOk =
      Array.isArray(on) &&
      on.length > 0 &&
      new Set(on).size === on.length &&
      on.every((o) => (retryableOutcomes as readonly unknown[]).includes(o));
    if (!onOk) problem(`retry.on must list one or more of ${retryableOutcomes.join(', ')}, each once`);
    const delaysMs = Array.isArray(r.delays)
      ? r.delays.map((d) => (typeof d === 'string' ? durationMs(d) : undefined))
      : [];
    const bounds = campaignOptions.retryDelay;
    if (
      !Array.isArray(r.delays) ||
      delaysMs.length < 1 ||
      delaysMs.length > 10 ||
      delaysMs.some((d) => d === undefined || d < bounds.minMs || d > bounds.maxMs)
    ) {
      problem("retry.delays must list 1–10 durations from 1s to 30d, such as ['4h', '1d']");
    }
    // Required: a missing count is out of bounds like a wrong one.
    const maxAttempts = int('retry.maxAttempts', r.maxAttempts ?? 0, { default: 0, ...campaignOptions.retryAttempts });
    return { on: onOk ? on : [], delaysMs: delaysMs.map((d) => d ?? bounds.minMs), maxAttempts };
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
