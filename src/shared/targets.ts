// A campaign's targets as workflows, activities and the CLI all see them. Reading and checking them is
// src/domain/targets.ts, on the workers' side.
import type { FailureType } from './failures';

/** One person or business to call. */
export interface CampaignTarget {
  /** A stable id of the caller's (CRM id): it names the target's call workflow. @default the row's line */
  id?: string;
  toPhoneNumber: string;
  objective: string;
  businessName?: string;
  website?: string;
  /** IANA zone of the recipient, e.g. America/New_York, for the calling window. */
  timezone?: string;
}

/** Why a target was refused at validation. */
export type RefusalReason = FailureType | 'Duplicate' | 'InvalidTimezone' | 'InvalidId';

export interface TargetRefusal {
  /** Position in the source: 1-based CSV line, or 0-based index in `targets`. */
  line?: number;
  index?: number;
  id?: string;
  reason: RefusalReason;
  message: string;
}

/** A target that passed validation; `index` counts valid targets only, in source order. */
export interface ValidTarget {
  index: number;
  /** The part of the call workflow's id that names this target: `t-<id>` or `line-<n>` / `item-<n>`. */
  key: string;
  line?: number;
  target: CampaignTarget;
  /**
   * The local hours it may be called in, by its number's jurisdiction (the contact policy's), narrowed by the
   * campaign's callingWindow; `never` when the two do not overlap. Set by the workers for campaigns that apply the
   * recipients' hours.
   */
  hours?: { start: string; end: string; source: string } | { never: string };
}

export interface TargetsInspection {
  /** sha256 of the source, so a page read later can prove it reads what was approved. */
  sourceHash: string;
  rows: number;
  valid: number;
  refused: number;
  refusedByReason: Partial<Record<RefusalReason, number>>;
  /** The first refusals, with their reasons (the full list: `campaign preview --all`). */
  refusals: TargetRefusal[];
  /** What the contact policy said of the valid targets when they were validated (workers with a contact store). */
  policy?: PolicyPreview;
}

/**
 * The contact policy's verdict on a campaign's valid targets at validation, before approval. The targets stay in the
 * list: each dial asks the policy again, and its verdict is the one that counts (a number may be listed, taken off
 * the list, or leave a cap's window in between).
 */
export interface PolicyPreview {
  /** When the store was read. */
  at: string;
  /** On the do-not-call list: skipped `do_not_call` at dial time, unless taken off it by then. */
  doNotCall: number;
  /** Over a cap on their number: deferred until the cap allows them, never dialed early. */
  capped: number;
  /** The capped targets by cap, e.g. { "3 calls in 24 h (Fla. Stat. 501.059(8)(b))": 2 }. */
  cappedBy: Record<string, number>;
  /** When the last capped target is allowed. */
  cappedUntil?: string;
  /**
   * Whether the campaign calls each target within its recipient's hours (the policy's `hours.campaigns`), and how
   * many targets it will skip `no_timezone` because their zone cannot be told.
   */
  recipientHours?: { applied: boolean; noTimezone: number };
  /** The store could not be read, so nothing was screened: the dial still checks every target. */
  unavailable?: string;
}
