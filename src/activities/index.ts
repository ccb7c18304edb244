import { cancellationSignal, log } from '@temporalio/activity';
import { type AgentPhoneClient, AgentPhoneHttpError, type CallDetails } from '../agentphone';
import { terminalStatuses } from '../agentphone/statuses';
import { FailureType } from '../shared/failures';
import { createCampaignActivities, type RateCeiling } from './campaign';
import { createCreateActivities, type IdempotencyTrust, type RateLimited } from './create-call';
import {
  type ContactPolicyDeps,
  createCallingHoursActivities,
  createDoNotCallActivities,
  recordContactOutcome,
} from './contact-policy';
import { createDialGateActivities, type DialGateConfig } from './dial-gate-client';
import { createEarlierCallActivities } from './earlier-call';
import { toFailure } from './http-failure';
import { type CallRequest, checkCallRequest, type GuardRailFailureType } from '../guardrails';
import type { ResolvedTiming } from '../shared/timing';
import type { CampaignDialSlot } from '../shared/call-types';
import { resolveTiming } from '../shared/timing';

export type { IdempotencyTrust, RateLimited, SlotUse } from './create-call';
export type { EarlierCall } from './earlier-call';
export type { ContactPolicyDeps, RecipientHours } from './contact-policy';

export interface ActivityDeps {
  client: AgentPhoneClient;
  /** The API key's dial gate (AGENTPHONE_RATE_LIMIT). Without it, creates are not paced across workflows. */
  gate?: DialGateConfig;
  /** AGENTPHONE_IDEMPOTENCY. @default 'untrusted' */
  idempotency?: IdempotencyTrust;
  /** Whether the namespace has this package's search attributes (see temporal-setup.ts). @default false */
  searchAttributes?: boolean;
  /** The API key's ceiling, creates per window. @default the contract's 10 a minute */
  rateLimit?: RateCeiling;
  /** The contact policy: the do-not-call list and frequency caps, checked before every create. */
  contacts?: ContactPolicyDeps;
}

/**
 * `indexed`: whether the workflow may upsert search attributes; `gated`: whether its creates wait for the key's dial
 * gate. Both decided once and recorded with the verdict.
 */
type PreparedCall = { indexed: boolean; gated?: boolean } & (
  | { ok: true; request: CallRequest; timing: ResolvedTiming; slot?: CampaignDialSlot; recipientHours?: true }
  | { ok: false; type: GuardRailFailureType; field: string; message: string }
);

export type GetCallOutcome = ({ kind: 'call' } & CallDetails) | RateLimited;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createCallActivities(deps),
    ...createCreateActivities(deps),
    ...createEarlierCallActivities(),
    ...createCampaignActivities(deps),
    ...createDialGateActivities(),
    ...createDoNotCallActivities(deps.contacts),
    ...createCallingHoursActivities(deps.contacts),
  };
}

export type Activities = ReturnType<typeof createActivities>;

function createCallActivities({ client, searchAttributes = false, gate, contacts }: ActivityDeps) {
  return {
    /**
     * The guard rails and the timing overrides, checked in an activity so that the decision is recorded in
     * history: a later change to the rules (a new emergency number) cannot change what a running workflow replays.
     * Never throws for bad input: the verdict is data.
     */
    async prepareCall(input: unknown): Promise<PreparedCall> {
      const indexed = searchAttributes;
      const gated = gate !== undefined;
      const verdict = checkCallRequest(input);
      if (!verdict.ok)
        return { indexed, ok: false, type: verdict.type, field: verdict.field, message: verdict.message };
      const timing = resolveTiming((input as { timing?: unknown }).timing);
      if (!timing.ok)
        return { indexed, ok: false, type: FailureType.InvalidInput, field: 'timing', message: timing.message };
      const slot = dialSlotOf((input as { dialSlot?: unknown }).dialSlot);
      if (typeof slot === 'string')
        return { indexed, ok: false, type: FailureType.InvalidInput, field: 'dialSlot', message: slot };
      const callingHours = (input as { callingHours?: unknown }).callingHours;
      if (callingHours !== undefined && callingHours !== 'recipient') {
        const message = "callingHours must be 'recipient' (wait for the recipient's calling hours) or left out.";
        return { indexed, ok: false, type: FailureType.InvalidInput, field: 'callingHours', message };
      }
      return {
        indexed,
        gated,
        ok: true,
        request: verdict.request,
        timing: timing.timing,
        ...(slot ? { slot } : {}),
        ...(callingHours ? { recipientHours: true } : {}),
      };
    },

    /** Reads the call's status. Reads are safe to repeat, so every transient fault is retried by Temporal. */
    async getCall(callId: string): Promise<GetCallOutcome> {
      try {
        const call = await client.getCall(callId, { signal: cancellationSignal() });
        if (contacts && terminalStatuses.includes(call.status)) await recordContactOutcome(contacts, call.status);
        return { kind: 'call', ...call };
      } catch (error) {
        return rateLimitedOrThrow(error, 'read', callId);
      }
    },
  };
}

/** A campaign's dial slot, checked: what it asks of the gate must be within bounds. A string says what is wrong. */
function dialSlotOf(value: unknown): CampaignDialSlot | string | undefined {
  if (value === undefined) return undefined;
  const slot = value as CampaignDialSlot;
  if (
    typeof slot !== 'object' ||
    slot === null ||
    typeof slot.campaignId !== 'string' ||
    !slot.campaignId ||
    slot.campaignId.length > 1000
  ) {
    return 'dialSlot needs the campaignId of the campaign that dials (set by callCampaignWorkflow).';
  }
  if (slot.share !== undefined && !(typeof slot.share === 'number' && slot.share > 0 && slot.share <= 100)) {
    return 'dialSlot.share must be a number above 0 and at most 100.';
  }
  const cap = slot.cap;
  if (
    cap !== undefined &&
    !(
      Number.isInteger(cap?.count) &&
      cap.count >= 1 &&
      cap.count <= 10_000 &&
      cap.windowMs >= 100 &&
      cap.windowMs <= 3_600_000
    )
  ) {
    return 'dialSlot.cap must be 1–10,000 creates per 100 ms to 1 h.';
  }
  if (slot.ladder !== undefined && slot.ladder !== true) return 'dialSlot.ladder must be true or left out.';
  return {
    campaignId: slot.campaignId,
    ...(slot.share === undefined ? {} : { share: slot.share }),
    ...(cap ? { cap: { count: cap.count, windowMs: cap.windowMs } } : {}),
    ...(slot.ladder ? { ladder: true } : {}),
  };
}

function rateLimitedOrThrow(error: unknown, action: 'create' | 'read', callId?: string): RateLimited {
  if (error instanceof AgentPhoneHttpError && error.status === 429) {
    log.warn(`AgentPhone rate limit on ${action}`, { callId, retryAfterSeconds: error.retryAfterSeconds });
    return {
      kind: 'rate_limited',
      ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
    };
  }
  throw toFailure(error, action, callId);
}
