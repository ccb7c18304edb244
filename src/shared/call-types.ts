import type { CallOutcome, CallStatus } from '../agentphone/statuses';
import type { Timing } from './timing';

/** The one argument of `placeCallWorkflow`. */
export interface PlaceCallInput {
  /** E.164, e.g. +14155551234. Other forms are refused, never normalised. */
  toPhoneNumber: string;
  /** What the agent should achieve on the call. */
  objective: string;
  businessName?: string;
  /** http(s) URL the agent reads for context before calling. */
  website?: string;
  /** Overrides of the contract's durations (demos, benchmarks, tests). */
  timing?: Timing;
  /**
   * Set by `callCampaignWorkflow` for its calls: they wait behind single calls for the key's dial gate, in the
   * campaign's share, within its own `callsPerMinute`. A call started without it is a single call.
   */
  dialSlot?: CampaignDialSlot;
  /**
   * `'recipient'`: wait, on a Temporal timer, until the recipient's local calling hours (the contact policy's, by the
   * number's jurisdiction and zone: 08:00–21:00 in the US, 08:00–20:00 in Florida and Oklahoma). A number whose zone
   * cannot be told fails `CallingHoursUnknown`, never dialed blind. @default no wait
   */
  callingHours?: 'recipient';
}

/** A call held for the recipient's calling hours: why, and until when. */
export interface CallingHoursHold {
  /** E.g. "08:00–21:00 America/New_York (47 CFR 64.1200(c)(1))". */
  hours: string;
  until: string;
}

export interface CampaignDialSlot {
  campaignId: string;
  /** @default 1 */
  share?: number;
  /** The campaign's own ceiling: its callsPerMinute per its rate window. */
  cap?: { count: number; windowMs: number };
  /**
   * A redial of the campaign's retry ladder: the contact policy's per-campaign cap (one call per number per
   * campaign) does not count it; the caps on the number do.
   */
  ladder?: true;
}

/** The result of a completed call. */
export interface CallResult {
  callId: string;
  status: 'completed';
  outcome: CallOutcome;
  summary?: string;
  transcript?: string;
  recordingUrl?: string;
  durationSeconds?: number;
  /** Status reads made, enrichment re-reads included. */
  polls: number;
  /** Credits left after this call was created, as the API reported them. */
  creditsRemaining?: number;
  /** Set when this run placed no call: an earlier run of the same workflow id did, and this is its result. */
  earlierRunId?: string;
  /** How long the create waited for the API key's dial gate. */
  waitedForSlotMs?: number;
}

export type CallPhase =
  | 'checking'
  | 'waiting_for_hours'
  | 'waiting_for_slot'
  | 'creating'
  | 'rate_limited'
  | 'polling'
  | 'enriching'
  | 'completed'
  | 'failed';

/** What the `callState` query answers: the live state of one call. */
export interface CallState {
  phase: CallPhase;
  callId?: string;
  /** The last status the API reported. */
  lastStatus?: CallStatus;
  polls: number;
  /** ISO time after which the call is given up as timed out (set once the call exists). */
  deadline?: string;
  /** Failure type, once the workflow has failed. */
  failure?: string;
  /** An earlier run of this workflow id placed the call: this run follows it instead of dialing. */
  earlierRunId?: string;
  /** Held for the recipient's calling hours (`callingHours: 'recipient'`): why, and until when. */
  heldForHours?: CallingHoursHold;
  /** Time spent waiting for the API key's dial gate so far. */
  waitedForSlotMs?: number;
}
