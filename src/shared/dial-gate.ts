// The key's dial gate as both sides see it: the workflow (src/workflows/dial-gate.ts) and the activities that talk
// to it (src/activities/dial-gate-client.ts). Types and message definitions only.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

/** The gate's workflow type, as the activities start it (by name: activities never import workflow code). */
export const dialGateWorkflowType = 'dialGateWorkflow';

export interface Ceiling {
  /** Creates per window. */
  count: number;
  windowMs: number;
}

export type SlotPriority = 'call' | 'campaign';

export interface SlotRequest {
  /** Names one create of one workflow run (hashed, never a phone number): stable across the activity's retries. */
  requester: string;
  /** A single call goes ahead of every campaign dial. */
  priority: SlotPriority;
  campaignId?: string;
  /** A campaign's weight against the other campaigns sharing the key. @default 1 */
  share?: number;
  /** A campaign's own bound within the key's ceiling (its callsPerMinute). */
  cap?: Ceiling;
  /** The requesting worker's AGENTPHONE_RATE_LIMIT: the gate keeps the strictest it has seen. */
  ceiling: Ceiling;
  /**
   * The waiting activity's task token (base64): the gate completes that activity with the offer, so nobody polls.
   * Without it (an activity from before), the caller looks for its offer by query.
   */
  taskToken?: string;
}

/** An offer to hand to the activity that waits for it (the gate's deliverDialOffers activity completes it). */
export interface Delivery {
  taskToken: string;
  offer: Offer;
}

export interface Offer {
  offerId: string;
  requester: string;
  /** The claim is recorded no earlier than this (ms): the slot is offered a little ahead to hide the latency. */
  notBefore: number;
  /** Unclaimed by then, the offer lapses and its slot is given to someone else. */
  expiresAt: number;
  campaignId?: string;
  /** How long the request waited in line. */
  waitedMs: number;
  /** Its place in line (kept if the offer lapses). Absent in offers made before it was kept. */
  seq?: number;
}

export interface DialGateSnapshot {
  ceiling: Ceiling;
  guardMs: number;
  claimsInWindow: number;
  offersOutstanding: number;
  waiting: { calls: number; campaigns: Record<string, number> };
  holdUntil?: string;
  campaigns: Record<string, { share: number; granted: number; waitedMs: number }>;
  totals: { claims: number; rateLimited: number };
}

export type SlotStatus = { kind: 'offer'; offer: Offer } | { kind: 'waiting'; ahead: number } | { kind: 'unknown' };
export interface ClaimInput {
  offerId: string;
  attempt: number;
}
export type ClaimAnswer = { kind: 'claimed'; at: number; waitMs: number } | { kind: 'lapsed' };

// Its messages: why each is what it is, beside dialGateWorkflow.
export const requestDialSlotSignal = defineSignal<[SlotRequest]>('requestDialSlot');
/** Where a requester stands: its offer, its place in line, or `unknown` (it must ask again). */
export const dialSlotQuery = defineQuery<SlotStatus, [string]>('dialSlot');
export const claimDialSlotUpdate = defineUpdate<ClaimAnswer, [ClaimInput]>('claimDialSlot');
/** A claimed create that certainly never left the worker: its retry is then not ambiguous. */
export const releaseDialSlotUpdate = defineUpdate<void, [{ requester: string; attempt: number }]>('releaseDialSlot');
/** Attempts of a create that claimed a slot and did not release it. */
export const dialClaimsQuery = defineQuery<number[], [string]>('dialClaims');
export const dialRateLimitedSignal = defineSignal<[{ backOffMs: number }]>('dialRateLimited');
/** When a claimed create's answer came back to its worker (that worker's clock, ms). */
export const dialAnsweredSignal = defineSignal<[{ requester: string; at: number }]>('dialAnswered');
export const dialGateQuery = defineQuery<DialGateSnapshot>('dialGate');
