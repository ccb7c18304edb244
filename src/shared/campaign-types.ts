import { createsPerWindow } from '../agentphone/contract';
import type { CallingWindow } from './calling-window';
import type { Timing } from './timing';
import type { CampaignTarget, TargetRefusal, TargetsInspection, ValidTarget } from './targets';

export type { CallingWindow, CampaignTarget, TargetRefusal };

/**
 * A campaign's options when left out, and the bounds of those given: the campaign resolves them
 * (src/workflows/campaign-settings.ts) and the CLI shows and checks the same ones.
 */
export const campaignOptions = {
  maxConcurrentCalls: { default: 5, min: 1, max: 1000 },
  callsPerMinute: { default: createsPerWindow, min: 1, max: 10_000 },
  pilotCalls: { default: 0, min: 0, max: 10_000 },
  historyLimit: { default: 10_000, min: 200, max: 40_000 },
  approvalTimeout: { default: '24h', minMs: 1000, maxMs: 30 * 86_400_000 },
  /** Calls of a target on a retry ladder, the first included. */
  retryAttempts: { min: 2, max: 10 },
  retryDelay: { minMs: 1000, maxMs: 30 * 86_400_000 },
} as const;

/** The rule for a campaign's name, as the campaign and the CLI state it. */
export const campaignNameRule = 'name must be 1–200 characters (no control characters)';

/**
 * Whether a campaign's name breaks its rule: 'wrong' (not 1–200 UTF-16 units of text: refused by every version),
 * 'strict' (over 200 characters, or a control or format character: refused since the hardening), or undefined.
 */
export function campaignNameProblem(name: unknown): 'wrong' | 'strict' | undefined {
  if (typeof name !== 'string' || !name.trim() || name.length > 200) return 'wrong';
  if ([...name].length > 200 || /[\p{Cc}\p{Cf}]/u.test(name)) return 'strict';
  return undefined;
}

/** The one argument of `callCampaignWorkflow`. */
export interface CampaignInput {
  name: string;
  /** Up to 1,000 targets inline; more go in a CSV file. */
  targets?: CampaignTarget[];
  /** A CSV file readable by the workers (header: to_phone_number, objective[, business_name, website, timezone, id]). */
  targetsCsvPath?: string;
  /** @default 5 */
  maxConcurrentCalls?: number;
  /** Creates in any 60 s window. @default 10 (the API's limit) */
  callsPerMinute?: number;
  approval?: {
    /** @default '24h' */
    timeout?: string;
    /** When set, only these names may approve or reject. */
    approvers?: string[];
  };
  /** Dial this many, then stop for a second approval with their outcomes. */
  pilotCalls?: number;
  /** This campaign's weight when it shares the API key's ceiling with other campaigns. @default 1 */
  share?: number;
  callingWindow?: CallingWindow;
  /**
   * The retry ladder: a target whose call ends in one of `on` is called again after the next of `delays` (the last
   * one repeats), each redial waiting on a Temporal timer, then for the recipient's calling hours and the contact
   * policy's caps, up to `maxAttempts` calls in all. `failed` is a call AgentPhone placed and reports failed
   * (`CallFailed`: no answer, busy); a create that may or may not have dialed (`CallOutcomeUnknown`) is never redialed.
   * The campaign stays open until every ladder ends. @example { on: ['not_achieved'], delays: ['4h', '1d'], maxAttempts: 3 }
   */
  retry?: RetryLadder;
  /**
   * Passed to every call. `rateWindow` (default '60s') scales the minute of callsPerMinute for benchmarks;
   * `rateMargin` (default 2% of the window) widens each window to absorb the jitter between a child's start and its
   * create.
   */
  timing?: Timing & { rateWindow?: string; rateMargin?: string };
  /** Continue-as-new after this many history events. @default 10000 */
  historyLimit?: number;
  /** Set by continue-as-new only. */
  carry?: CampaignCarry;
}

/** The outcomes a retry ladder may call again after. */
export const retryableOutcomes = ['not_achieved', 'failed', 'timed_out'] as const;
export type RetryableOutcome = (typeof retryableOutcomes)[number];

export interface RetryLadder {
  on: RetryableOutcome[];
  /** Durations such as '4h' or '1d': the wait before the 2nd call, the 3rd, …; the last repeats. */
  delays: string[];
  /** Calls in all, the first included: 2–10. */
  maxAttempts: number;
}

/** One call of a target on a retry ladder: when it ended, how, and its AgentPhone call id. */
export interface LadderAttempt {
  attempt: number;
  at: string;
  state: TargetState;
  callId?: string;
}

export type CampaignState =
  'validating' | 'awaiting_approval' | 'running' | 'paused' | 'completed' | 'rejected' | 'expired' | 'canceled';

export type TargetState =
  | 'pending'
  | 'in_flight'
  | 'achieved'
  | 'partial'
  | 'not_achieved'
  | 'failed'
  | 'canceled'
  | 'timed_out'
  | 'skipped'
  /** The create may have reached the API and its answer was lost (CallOutcomeUnknown): never redialed. */
  | 'unknown';

export interface Decision {
  action: 'approve' | 'reject' | 'pause' | 'resume' | 'cancel' | 'auto_pause' | 'expire';
  by: string;
  at: string;
  comment?: string;
}

export type PauseReason = 'operator' | 'insufficient_credits' | 'unauthorized' | 'contact_store_unavailable';

export interface CampaignProgress {
  campaignId: string;
  name: string;
  state: CampaignState;
  pauseReason?: PauseReason;
  /** Why approval is awaited: the first gate, or the pilot's. */
  gate?: 'launch' | 'pilot';
  counts: Record<TargetState, number>;
  skippedByReason: Record<string, number>;
  failedByType: Record<string, number>;
  validation?: Omit<TargetsInspection, 'sourceHash'>;
  /** Credits needed for every valid target, one a call. */
  creditsNeeded?: number;
  creditsRemaining?: number;
  pilot?: { calls: number; counts?: Partial<Record<TargetState, number>> };
  decisions: Decision[];
  approvalDeadline?: string;
  /** At the configured rate, with what is left. */
  eta?: string;
  callsPerMinute: number;
  maxConcurrentCalls: number;
  /** Runs of this campaign so far: it continues as new to keep each history bounded. */
  runs: number;
  /** How its calls' workflow ids are formed: see {@link childWorkflowId}. */
  childIds: ChildIdScheme;
  /** Targets held by a frequency cap of the contact policy, and when the first of them may be dialed. */
  deferred?: { count: number; nextAt: string };
  /** Targets waiting for their next call on the retry ladder, and when the first is due. */
  retrying?: { count: number; nextAt: string };
  /** Its share of the API key's ceiling and the time its calls waited for it, when the workers run the dial gate. */
  dialGate?: { share: number; waitedForSlotMs: number };
  /** Where its targets come from, as validated: the report reads them from here, never from the start's input. */
  source?: CampaignSource;
}

/** A campaign's list: a CSV file the workers read (with the sha256 it was approved with), or inline targets. */
export type CampaignSource =
  | { kind: 'csv'; path: string; sha256: string; rows: number; valid: number; refused: number }
  | { kind: 'inline'; rows: number; valid: number; refused: number };

export const targetStateCodes: Record<TargetState, string> = {
  pending: '.',
  in_flight: '>',
  achieved: 'A',
  partial: 'P',
  not_achieved: 'N',
  failed: 'F',
  canceled: 'C',
  timed_out: 'T',
  skipped: 'S',
  unknown: 'U',
};

/** The state of each code of `targetStateCodes`. */
export const targetStateOfCode: Readonly<Record<string, TargetState>> = Object.fromEntries(
  Object.entries(targetStateCodes).map(([state, code]) => [code, state as TargetState]),
);

/** What continue-as-new carries to the next run: small, whatever the campaign's size. */
export interface CampaignCarry {
  campaignId: string;
  state: CampaignState;
  pauseReason?: PauseReason;
  gate?: 'launch' | 'pilot';
  pilotApproved: boolean;
  inspection: TargetsInspection;
  inlineValid?: ValidTarget[];
  cursor: number;
  /** Per valid target, in source order, one character of `targetStateCodes`. */
  targetStates: string;
  /**
   * Valid indexes to dial again (no call was created: 402 or a second 429; or due on the retry ladder), with their
   * next attempt number. `ladder`: the dial is a redial of the retry ladder.
   */
  redial: { index: number; attempt: number; ladder?: true }[];
  /**
   * Targets over a frequency cap of the contact policy, or waiting for their next call on the retry ladder
   * (`ladder`): dialed again (next attempt) from `notBefore`, never before.
   */
  deferred?: { index: number; attempt: number; notBefore: number; ladder?: true }[];
  /** Every call of each target that entered the retry ladder, by valid index. */
  ladders?: Record<number, LadderAttempt[]>;
  /** Whether this campaign runs its retry ladder (decided at its first run: patched). */
  retryLadder?: true;
  /**
   * Whether it applies its recipients' calling hours, as the workers' contact policy gives them with each target
   * (decided at its first run: patched; a campaign from before keeps to its callingWindow alone).
   */
  recipientHours?: true;
  /** Attempt numbers above 1, by valid index. */
  attempts: Record<number, number>;
  skippedByReason: Record<string, number>;
  failedByType: Record<string, number>;
  decisions: Decision[];
  creditsRemaining?: number;
  recentCreates: number[];
  runs: number;
  /** Whether the namespace has the search attributes (decided once, by the validation activity). */
  indexed: boolean;
  /** How this campaign names its calls (absent in runs that began before scheme 2: those use 1). */
  childIds?: ChildIdScheme;
  /** Whether its calls pass the key's dial gate (decided by the validation activity, as the workers run it). */
  gated?: boolean;
  /** Time its calls waited for the key's gate, summed. */
  waitedForSlotMs?: number;
}

export interface ApproveInput {
  by: string;
  comment?: string;
}
export interface RejectInput {
  by: string;
  reason: string;
}
export interface PauseInput {
  by: string;
  reason?: string;
}
export interface ResumeInput {
  by: string;
}
export interface CancelInput {
  by: string;
  reason?: string;
}

export interface CampaignReportQuery {
  /** First valid index. @default 0 */
  offset?: number;
  /** @default 1000 */
  limit?: number;
  /** Also return the page's valid targets, for an inline list (a CSV's are read from its file). */
  withTargets?: boolean;
}

export interface CampaignTargetsPage {
  offset: number;
  total: number;
  /** `targetStateCodes` per valid target from `offset`. */
  states: string;
  /** Attempt number of targets dialed more than once (no call was created the first time), by valid index. */
  attempts: Record<number, number>;
  /** Every call of the page's targets that entered the retry ladder, by valid index. */
  ladders?: Record<number, LadderAttempt[]>;
  /** With `withTargets`, for an inline list: the valid targets from `offset`. */
  targets?: ValidTarget[];
}

/**
 * How a campaign names its calls' workflows. 2: `<campaignId>/<key>[/r<attempt>]`. A key (`t-<id>`, `line-<n>`,
 * `item-<n>`) never holds a `/` and never looks like `r<n>`, so read from the right an id has one campaign id, one
 * key and one attempt: no two campaigns' targets share a call id. 1: `<campaignId>-<key>[-r<attempt>]`, the
 * scheme of campaigns started before it (`adv-col` + `t-line-2` = `adv-col-t` + `line-2`), kept for those only.
 */
export type ChildIdScheme = 1 | 2;

/** The call workflow of a campaign's target: deterministic, so a target is never called twice under one campaign. */
export function childWorkflowId(campaignId: string, key: string, attempt = 1, scheme: ChildIdScheme = 2): string {
  const sep = scheme === 2 ? '/' : '-';
  return `${campaignId}${sep}${key}${attempt > 1 ? `${sep}r${attempt}` : ''}`;
}
