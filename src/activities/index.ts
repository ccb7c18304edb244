import { createHash } from 'node:crypto';
import { activityInfo, cancellationSignal, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  type AgentPhoneClient,
  AgentPhoneHttpError,
  AgentPhoneNetworkError,
  AgentPhoneResponseError,
  type CallDetails,
  type CreatedCall,
} from '../agentphone';
import { FailureType } from '../failures';
import { createCampaignActivities, type RateCeiling } from './campaign';
import { createEarlierCallActivities } from './earlier-call';
export type { EarlierCall } from './earlier-call';
import { type CallRequest, checkCallRequest, type GuardRailFailureType } from '../guardrails';
import type { ResolvedTiming } from '../timing';
import { resolveTiming } from '../timing-check';

export interface ActivityDeps {
  client: AgentPhoneClient;
  /** Whether the namespace has this package's search attributes (see temporal-setup.ts). @default false */
  searchAttributes?: boolean;
  /** The API key's ceiling, creates per window. @default the contract's 10 a minute */
  rateLimit?: RateCeiling;
}

/** `indexed`: whether the workflow may upsert search attributes, decided once and recorded with the verdict. */
export type PreparedCall = { indexed: boolean } & (
  | { ok: true; request: CallRequest; timing: ResolvedTiming }
  | { ok: false; type: GuardRailFailureType; field: string; message: string }
);

/** A 429 is not a failure of the activity: the workflow waits on a durable timer and decides. */
export type RateLimited = { kind: 'rate_limited'; retryAfterSeconds?: number };
export type CreateCallOutcome = ({ kind: 'created' } & CreatedCall) | RateLimited;
export type GetCallOutcome = ({ kind: 'call' } & CallDetails) | RateLimited;

export function createActivities(deps: ActivityDeps) {
  return { ...createCallActivities(deps), ...createEarlierCallActivities(), ...createCampaignActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;

function createCallActivities({ client, searchAttributes = false }: ActivityDeps) {
  return {
    /**
     * The guard rails and the timing overrides, checked in an activity so that the decision is recorded in
     * history: a later change to the rules (a new emergency number) cannot change what a running workflow replays.
     * Never throws for bad input: the verdict is data.
     */
    async prepareCall(input: unknown): Promise<PreparedCall> {
      const indexed = searchAttributes;
      const verdict = checkCallRequest(input);
      if (!verdict.ok)
        return { indexed, ok: false, type: verdict.type, field: verdict.field, message: verdict.message };
      const timing = resolveTiming((input as { timing?: unknown }).timing);
      if (!timing.ok)
        return { indexed, ok: false, type: FailureType.InvalidInput, field: 'timing', message: timing.message };
      return { indexed, ok: true, request: verdict.request, timing: timing.timing };
    },

    /**
     * Places the call. Every attempt of one workflow run sends the same Idempotency-Key, so a retry after a lost
     * answer (timeout, reset, 5xx after the call was created) gets the same call back instead of dialing twice.
     * 400/401/402 are final and never retried; 429 goes back to the workflow, which waits 60 s on a timer.
     */
    async createCall(request: CallRequest): Promise<CreateCallOutcome> {
      try {
        const created = await client.createCall(request, {
          idempotencyKey: idempotencyKey(),
          signal: cancellationSignal(),
        });
        return { kind: 'created', ...created };
      } catch (error) {
        return rateLimitedOrThrow(error, 'create');
      }
    },

    /** Reads the call's status. Reads are safe to repeat, so every transient fault is retried by Temporal. */
    async getCall(callId: string): Promise<GetCallOutcome> {
      try {
        return { kind: 'call', ...(await client.getCall(callId, { signal: cancellationSignal() })) };
      } catch (error) {
        return rateLimitedOrThrow(error, 'read', callId);
      }
    },
  };
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
  const digest = createHash('sha256').update(scope);
  return `temporal-${digest.digest('base64url').slice(0, 32)}`;
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

/** Translates the HTTP client's errors into Temporal failures with stable types. */
export function toFailure(error: unknown, action: 'create' | 'read', callId?: string): ApplicationFailure {
  const details = callId === undefined ? [] : [{ callId }];
  if (error instanceof AgentPhoneHttpError) {
    const final = (type: FailureType, message: string) =>
      ApplicationFailure.create({ type, message, nonRetryable: true, details });
    switch (error.status) {
      case 400:
      case 422:
        return final(FailureType.InvalidInput, `AgentPhone refused the ${action}: ${error.message}`);
      case 401:
      case 403:
        return final(
          FailureType.Unauthorized,
          `AgentPhone refused the API key (HTTP ${error.status}). Check AGENTPHONE_API_KEY.`,
        );
      case 402:
        return final(
          FailureType.InsufficientCredits,
          'AgentPhone has no credits left for this account. Top up, then retry.',
        );
      case 404:
        if (action === 'read') return final(FailureType.CallNotFound, `AgentPhone does not know call ${callId}.`);
        return final(FailureType.InvalidInput, `AgentPhone answered 404 to the create: check AGENTPHONE_BASE_URL.`);
      case 409:
        return final(
          FailureType.InvalidInput,
          `AgentPhone refused the ${action} as a conflicting retry: ${error.message}`,
        );
    }
    if (error.status >= 500 || error.status === 408) {
      return ApplicationFailure.create({
        type: FailureType.ApiUnavailable,
        message: `AgentPhone answered HTTP ${error.status} to the ${action}`,
        details,
      });
    }
    return final(
      FailureType.UnexpectedResponse,
      `AgentPhone answered HTTP ${error.status} to the ${action}: ${error.message}`,
    );
  }
  if (error instanceof AgentPhoneNetworkError) {
    return ApplicationFailure.create({ type: FailureType.ApiUnavailable, message: error.message, details });
  }
  if (error instanceof AgentPhoneResponseError) {
    // Retryable: a proxy may have mangled one answer. A create retried this way reuses its Idempotency-Key.
    return ApplicationFailure.create({ type: FailureType.UnexpectedResponse, message: error.message, details });
  }
  return ApplicationFailure.create({
    type: FailureType.ApiUnavailable,
    message: error instanceof Error ? error.message : String(error),
    details,
  });
}
