import { createHash } from 'node:crypto';
import { activityInfo, cancellationSignal, getClient, heartbeat, log, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  type AgentPhoneClient,
  AgentPhoneHttpError,
  AgentPhoneNetworkError,
  AgentPhoneResponseError,
  type CreatedCall,
} from '../agentphone';
import { rateLimitWaitMs } from '../agentphone/contract';
import { FailureType } from '../shared/failures';
import type { CallRequest } from '../guardrails';
import type { Offer } from '../shared/dial-gate';
import { toFailure } from './http-failure';
import { type ContactPolicyDeps, releaseContact, reserveContact, storeFault } from './contact-policy';
import { ContactStoreInputError, InvalidPhoneNumberError, ReservationConflictError } from '../contact-store';
import { type DialGate, dialGate, type DialGateConfig, requesterOf, type SlotAsk } from './dial-gate-client';

/**
 * Whether the API is known to honour `Idempotency-Key` (AGENTPHONE_IDEMPOTENCY). The contract does not mention it,
 * so by default a create that may have reached the API is never sent again.
 */
export type IdempotencyTrust = 'trusted' | 'untrusted';

/** A 429 is not a failure of the activity: the workflow waits on a durable timer and decides. */
export type RateLimited = { kind: 'rate_limited'; retryAfterSeconds?: number };
export type CreateCallOutcome = ({ kind: 'created' } & CreatedCall) | RateLimited;

/** The slot a call was offered by the key's gate (waitForDialSlot), and what it asked for. */
export interface SlotUse {
  ask: SlotAsk;
  offer?: Offer;
  /** The key's back-off after a 429 without Retry-After: the call's rate-limit wait (the contract's 60 s). */
  backOffMs?: number;
  /** A redial of the campaign's retry ladder: the per-campaign cap does not count it (CampaignDialSlot.ladder). */
  ladder?: true;
}

/**
 * Every way a create can fail, and what follows from it. "Sent" is what matters: a create that may have reached the
 * API may have dialed someone, and is never sent again unless the API is known to deduplicate.
 *
 * | what happened                                        | verdict      | why                                                    |
 * |------------------------------------------------------|--------------|--------------------------------------------------------|
 * | HTTP 400, 422                                        | refused      | InvalidInput: the API read the request and refused it   |
 * | HTTP 401, 403                                        | refused      | Unauthorized: the key was refused, nothing was placed   |
 * | HTTP 402                                             | refused      | InsufficientCredits: no credit, nothing was placed      |
 * | HTTP 404                                             | refused      | InvalidInput: no such endpoint (AGENTPHONE_BASE_URL)    |
 * | HTTP 409                                             | refused      | InvalidInput: a deduplicating API refused a conflict    |
 * | HTTP 429                                             | rate limited | counted and refused: the contract's 60 s wait follows   |
 * | any other 4xx                                        | refused      | UnexpectedResponse: a client error places nothing       |
 * | HTTP 408, any 5xx                                    | ambiguous    | the API had the request: it may have placed the call    |
 * | connection refused, DNS failure, TLS failure         | not sent     | no byte of the request left this worker                 |
 * | timeout, reset, answer cut short                     | ambiguous    | the request may have arrived; its answer was lost       |
 * | 2xx whose body cannot be read                        | ambiguous    | the API accepted: a call was probably placed, id lost   |
 * | worker lost during the request (seen by the retry)   | ambiguous    | nothing says how far the lost attempt got               |
 *
 * Refused and rate limited follow the contract; not sent is retried (nothing reached the API); ambiguous fails
 * `CallOutcomeUnknown` unless AGENTPHONE_IDEMPOTENCY=trusted, when it is retried with the same Idempotency-Key.
 */
export type CreateVerdict =
  | { kind: 'refused'; failure: ApplicationFailure }
  | { kind: 'rate_limited'; retryAfterSeconds?: number }
  | { kind: 'not_sent'; message: string }
  /** `type`: what the failure is when it is retried (AGENTPHONE_IDEMPOTENCY=trusted). */
  | { kind: 'ambiguous'; message: string; type: FailureType };

export function classifyCreateFailure(error: unknown): CreateVerdict {
  if (error instanceof AgentPhoneHttpError) {
    if (error.status === 429) {
      return {
        kind: 'rate_limited',
        ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
      };
    }
    if (error.status >= 500 || error.status === 408) {
      const message = `AgentPhone answered HTTP ${error.status} to the create`;
      return { kind: 'ambiguous', message, type: FailureType.ApiUnavailable };
    }
    // Any other answer is a refusal: the API read the request and placed nothing.
    return { kind: 'refused', failure: toFailure(error, 'create') };
  }
  if (error instanceof AgentPhoneNetworkError) {
    return error.maybeSent
      ? { kind: 'ambiguous', message: error.message, type: FailureType.ApiUnavailable }
      : { kind: 'not_sent', message: error.message };
  }
  if (error instanceof AgentPhoneResponseError) {
    return { kind: 'ambiguous', message: error.message, type: FailureType.UnexpectedResponse };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'ambiguous', message, type: FailureType.ApiUnavailable };
}

export interface CreateDeps {
  client: AgentPhoneClient;
  gate?: DialGateConfig;
  idempotency?: IdempotencyTrust;
  contacts?: ContactPolicyDeps;
}

export function createCreateActivities({ client, gate: gateConfig, idempotency = 'untrusted', contacts }: CreateDeps) {
  const gateOf = () => (gateConfig ? dialGate(getClient(), gateConfig) : undefined);

  return {
    /**
     * Waits in the key's line until the gate offers a slot: single calls first, campaigns by their share. Nothing is
     * sent, so any failure is safe to retry (the place in line is kept). Without a gate, there is nothing to wait for.
     */
    async waitForDialSlot(ask: SlotAsk): Promise<Offer | undefined> {
      const gate = gateOf();
      if (!gate) return undefined;
      // Scheduled without a heartbeat timeout (placeCallWorkflow since offers are handed over): the gate completes
      // this activity. Scheduled with one (a run from before), it waits here, heartbeating, and looks by query.
      return activityInfo().heartbeatTimeoutMs ? gate.request(ask) : gate.awaitOffer(ask);
    },

    /**
     * Places the call. With a gate, the slot is claimed right before the create is sent, so the key's window counts
     * creates, not starts. Every attempt of a run sends the same Idempotency-Key; whether a retry may send again is
     * decided by {@link classifyCreateFailure} and, for a lost attempt, by what the gate recorded.
     */
    async createCall(request: CallRequest, slot?: SlotUse): Promise<CreateCallOutcome> {
      // Alive while it waits for the gate or the API: a lost worker is noticed within the heartbeat timeout.
      const beat = setInterval(() => heartbeat(), 5_000);
      try {
        return await create(request, slot);
      } finally {
        clearInterval(beat);
      }
    },
  };

  async function create(request: CallRequest, slot?: SlotUse): Promise<CreateCallOutcome> {
    const gate = gateOf();
    // A run from before the gate passes no slot: its create is named by its activity, unique within the run.
    const ask: SlotAsk = slot?.ask ?? { priority: 'call', key: `create-a${activityInfo().activityId}` };
    const key = idempotencyKey();
    await refuseIfAnEarlierAttemptMayHaveSent(gate, ask, key, idempotency);
    try {
      // Before the slot is claimed, so that a number the policy refuses costs the key no slot.
      if (contacts) await checkContact(contacts, request.toPhoneNumber, ask.campaignId, slot?.ladder === true);
      if (gate) await claimSlot(gate, ask, slot?.offer);
    } catch (error) {
      // Nothing has been sent: said before the failure, so that the retry (a store or gate back up) may send.
      heartbeat({ notSent: activityInfo().attempt });
      throw error;
    }

    const sentAt = new Date().toISOString();
    try {
      const created = await client
        .createCall(request, { idempotencyKey: key, signal: cancellationSignal() })
        // The API has the request by the time it answers: the key's window is counted from the answer.
        .finally(() => gate?.answered(requesterOf(ask), Date.now()));
      return { kind: 'created', ...created };
    } catch (error) {
      const verdict = classifyCreateFailure(error);
      switch (verdict.kind) {
        case 'refused':
          // The API read the request and placed nothing: the contact does not count.
          if (contacts) await releaseContact(contacts);
          throw verdict.failure;
        case 'rate_limited':
          log.warn('AgentPhone rate limit on create', { retryAfterSeconds: verdict.retryAfterSeconds });
          // Refused, so nothing was placed: the next create (after the wait) asks the policy again.
          if (contacts) await releaseContact(contacts);
          await gate?.rateLimited(
            verdict.retryAfterSeconds !== undefined
              ? verdict.retryAfterSeconds * 1000
              : (slot?.backOffMs ?? rateLimitWaitMs),
          );
          return {
            kind: 'rate_limited',
            ...(verdict.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: verdict.retryAfterSeconds }),
          };
        case 'not_sent':
          // Recorded before the failure, so that the retry knows this attempt sent nothing.
          if (gate) await gate.release(requesterOf(ask));
          if (contacts) await releaseContact(contacts);
          heartbeat({ notSent: activityInfo().attempt });
          throw ApplicationFailure.create({ type: FailureType.ApiUnavailable, message: verdict.message });
        case 'ambiguous':
          if (idempotency === 'trusted') {
            // Retried with the same Idempotency-Key: the operator declared that the API deduplicates.
            throw ApplicationFailure.create({ type: verdict.type, message: verdict.message });
          }
          throw outcomeUnknown(
            `${verdict.message}: the call may have been placed, so it is not sent again.`,
            key,
            sentAt,
          );
      }
    }
  }
}

/**
 * Claims the offered slot, or waits in line again when the offer lapsed (a slow worker, the gate moved on, or a
 * single call took the slot). The claim is sent just before the slot's time, not when the offer arrives: until it is
 * claimed, the gate may still give the slot to a single call that came later.
 */
async function claimSlot(gate: DialGate, ask: SlotAsk, offered: Offer | undefined) {
  let offer = offered ?? (await gate.request(ask));
  const claimAheadMs = Math.min(300, Math.max(50, gate.ceiling.windowMs / 8));
  for (;;) {
    const early = offer.notBefore - claimAheadMs - Date.now();
    if (early > 0) await sleep(early);
    const answer = await gate.claim(offer);
    if (answer.kind === 'claimed') {
      // Offered ahead of its slot: wait for it here, on this worker's clock, then send at once.
      if (answer.waitMs > 0) await sleep(answer.waitMs);
      return;
    }
    offer = await gate.request(ask);
  }
}

/** The store's own errors: a bug in what was asked of it, not an outage. */
const storeErrors = [ContactStoreInputError, InvalidPhoneNumberError, ReservationConflictError];

/**
 * The contact policy's check, with a store that cannot be reached named: a retryable `ContactStoreUnavailable`
 * (Temporal retries the create; each retry asks the store again, and the reservation is idempotent), the type the
 * call fails with if the store stays down through every retry. The policy's own refusals pass as they are.
 */
async function checkContact(
  contacts: ContactPolicyDeps,
  toPhoneNumber: string,
  campaignId: string | undefined,
  ladder: boolean,
): Promise<void> {
  try {
    await reserveContact(contacts, toPhoneNumber, campaignId, ladder);
  } catch (error) {
    // The policy's refusals, and the store's own errors (a bug, not an outage), pass as they are.
    if (error instanceof ApplicationFailure || storeErrors.some((type) => error instanceof type)) throw error;
    throw ApplicationFailure.create({
      type: FailureType.ContactStoreUnavailable,
      message: `The contact store could not check the call (${storeFault(error)}): nothing was sent.`,
    });
  }
}

/**
 * A retry of a create must know whether an earlier attempt may have reached the API. It may have, unless the gate
 * holds no claim of it (a claim comes before every send) or it recorded that it sent nothing.
 */
async function refuseIfAnEarlierAttemptMayHaveSent(
  gate: DialGate | undefined,
  ask: SlotAsk,
  key: string,
  idempotency: IdempotencyTrust,
): Promise<void> {
  const { attempt, heartbeatDetails } = activityInfo();
  if (attempt === 1 || idempotency === 'trusted') return;
  const previousSentNothing = (heartbeatDetails as { notSent?: number } | undefined)?.notSent === attempt - 1;
  if (previousSentNothing) return;
  if (gate && (await gate.claimsOf(requesterOf(ask))).filter((a) => a < attempt).length === 0) return;
  throw outcomeUnknown(
    `An earlier attempt of this create (attempt ${attempt - 1}) was lost while it may have been sending: not sending again.`,
    key,
  );
}

function outcomeUnknown(message: string, idempotencyKey: string, sentAt?: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.CallOutcomeUnknown,
    message,
    nonRetryable: true,
    details: [{ idempotencyKey, ...(sentAt ? { sentAt } : {}) }],
  });
}

/**
 * Derived from the workflow run, not from the attempt: stable across activity retries and worker restarts.
 * Hashed so that any workflow id (spaces, non-ASCII) yields a valid header value.
 */
function idempotencyKey(): string {
  const info = activityInfo();
  const scope = info.workflowExecution
    ? `${info.workflowExecution.workflowId}\n${info.workflowExecution.runId}`
    : `activity\n${info.activityId}`;
  return `temporal-${createHash('sha256').update(scope).digest('base64url').slice(0, 32)}`;
}
