import {
  ActivityFailure,
  ApplicationFailure,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  TimeoutFailure,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities, EarlierCall, GetCallOutcome, RateLimited, SlotUse } from '../activities';
import { outcomes, terminalStatuses, type CallOutcome } from '../agentphone/statuses';
import { FailureType } from '../shared/failures';
import { searchAttributes } from '../shared/search-attributes';
import type { ResolvedTiming } from '../shared/timing';
import type { SlotAsk } from '../activities/dial-gate-client';
import { callStateQuery } from '../shared/messages';
import type { CallResult, CallState, CampaignDialSlot, PlaceCallInput } from '../shared/call-types';

const { prepareCall } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3 },
});

const { createCall } = proxyActivities<Activities>({
  // The HTTP client gives up after 15 s. A create whose gate offer lapsed waits in line again, heartbeating.
  startToCloseTimeout: '10m',
  heartbeatTimeout: '30s',
  retry: {
    // A retry never sends a create that may have reached the API, unless AGENTPHONE_IDEMPOTENCY=trusted: the
    // activity decides from what failed and from what the gate recorded (see classifyCreateFailure).
    // Bounded, so an outage ends in ApiUnavailable instead of a call nobody hears about.
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 6,
    nonRetryableErrorTypes: [
      FailureType.InvalidInput,
      FailureType.Unauthorized,
      FailureType.InsufficientCredits,
      FailureType.CallOutcomeUnknown,
    ],
  },
});

const { waitForDialSlot } = proxyActivities<Activities>({
  // The key's gate completes this activity with the offer (no heartbeats: it does not run on a worker while it
  // waits). Waiting in line sends nothing, so it is retried freely: each attempt asks again and keeps its place. A
  // short attempt bounds what a lost request costs (a worker killed before its signal reached the gate, a gate
  // terminated by an operator): 30 s, not the whole wait. A campaign's call may wait many windows: 2 hours in all.
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '2h',
  retry: { initialInterval: '1s', maximumInterval: '5s' },
});

const { recipientHours } = proxyLocalActivities<Activities>({
  // Tables and the tz database only: quick, and safe to repeat.
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 5 },
});

const { findEarlierCall } = proxyLocalActivities<Activities>({
  // A history read or two and one visibility list: short reads, retried since they change nothing. Local, so it
  // costs one marker in history instead of three events and a round trip through the task queue.
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5 },
});

const { getCall } = proxyActivities<Activities>({
  startToCloseTimeout: '20s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '20s',
    maximumAttempts: 8,
    nonRetryableErrorTypes: [FailureType.Unauthorized, FailureType.CallNotFound, FailureType.InvalidInput],
  },
});

/**
 * Places one AgentPhone call and follows it to its end, exactly as the contract prescribes:
 * guard rails before any request, create (one 60 s wait on 429), a status read every 10 s until
 * completed, failed or canceled, a 5-minute timeout from creation, and two late reads 2 s apart when the
 * transcript or summary lag behind completion.
 */
export async function placeCallWorkflow(input: PlaceCallInput): Promise<CallResult> {
  // Decided before the first await, so that its marker precedes every command of the run (replays and queries see
  // it where they expect it). Runs started before the check existed replay without it.
  const checkEarlierRuns = patched('earlier-call-check');
  const state: CallState = { phase: 'checking', polls: 0 };
  setHandler(callStateQuery, () => state);
  const index = { enabled: false, status: '' };

  try {
    const prepared = await checkInput(input, index);
    const { request, timing } = prepared;
    index.enabled = prepared.indexed;

    // One id, one call: a run started again over a closed one, or by a reset, never dials if an earlier run did.
    const earlier: EarlierCall = checkEarlierRuns
      ? await findEarlierCall.executeWithOptions({ summary: 'look for a call placed by an earlier run' }, [])
      : { kind: 'none' };
    if (earlier.kind !== 'none') state.earlierRunId = earlier.runId;
    if (earlier.kind === 'completed') {
      enter(state, 'completed');
      return { ...earlier.result, earlierRunId: earlier.runId };
    }
    if (earlier.kind === 'unknown') {
      throw ApplicationFailure.create({
        type: FailureType.CallOutcomeUnknown,
        message: `An earlier run of this workflow id (${earlier.runId}) sent a create at ${earlier.sentAt} and its answer was lost: not dialing again.`,
        nonRetryable: true,
        details: [{ earlierRunId: earlier.runId, sentAt: earlier.sentAt }],
      });
    }

    if (prepared.recipientHours && earlier.kind === 'none') await waitForRecipientHours(state, request.toPhoneNumber);

    let creates = 0;
    const created =
      earlier.kind === 'created'
        ? { callId: earlier.callId, status: 'queued', creditsRemaining: undefined }
        : await withOneRateLimitWait(state, timing, 'create call', async (summary) => {
            if (!prepared.gated) {
              enter(state, 'creating');
              return createCall.executeWithOptions({ summary }, [request]);
            }
            // The key's gate: wait in line for a slot, then claim it right before the create is sent.
            const ask: SlotAsk = { ...slotAsk(prepared.slot), key: `create-${++creates}` };
            enter(state, 'waiting_for_slot');
            const offer = await waitForDialSlot.executeWithOptions({ summary: waitSummary(prepared.slot) }, [ask]);
            if (offer) state.waitedForSlotMs = (state.waitedForSlotMs ?? 0) + offer.waitedMs;
            enter(state, 'creating');
            const use: SlotUse = {
              ask,
              backOffMs: timing.rateLimitWaitMs,
              ...(offer ? { offer } : {}),
              ...(prepared.slot?.ladder ? { ladder: true } : {}),
            };
            return createCall.executeWithOptions({ summary }, [request, use]);
          });
    state.callId = created.callId;
    state.lastStatus = created.status;
    indexStatus(index, created.status);
    const deadline = (earlier.kind === 'created' ? earlier.createdAtMs : Date.now()) + timing.callTimeoutMs;
    state.deadline = new Date(deadline).toISOString();

    enter(state, 'polling');
    const onRead = (status: string) => indexStatus(index, status);
    let call = await pollUntilTerminal(state, timing, created.callId, deadline, onRead);
    if (call.status === 'failed') throw callEnded(FailureType.CallFailed, 'failed', call);
    if (call.status === 'canceled') throw callEnded(FailureType.CallCanceled, 'was canceled', call);

    call = await awaitEnrichment(state, timing, call, onRead);
    const result = {
      ...toResult(call, state.polls, created.creditsRemaining),
      ...(state.waitedForSlotMs === undefined ? {} : { waitedForSlotMs: state.waitedForSlotMs }),
    };
    if (index.enabled) upsertSearchAttributes([{ key: searchAttributes.outcome, value: result.outcome }]);
    enter(state, 'completed');
    return result;
  } catch (error) {
    const failure = asCallFailure(error);
    state.phase = 'failed';
    state.failure = failure instanceof ApplicationFailure ? (failure.type ?? undefined) : undefined;
    if (index.enabled && state.failure) {
      upsertSearchAttributes([{ key: searchAttributes.failureType, value: state.failure }]);
    }
    showDetails(state);
    throw failure;
  }
}

/** The guard rails run in a local activity, so their verdict is recorded in history (see prepareCall). */
async function checkInput(input: PlaceCallInput, index: { enabled: boolean }) {
  const prepared = await prepareCall.executeWithOptions({ summary: 'check guard rails' }, [input]);
  if (!prepared.ok) {
    index.enabled = prepared.indexed;
    throw ApplicationFailure.create({
      type: prepared.type,
      message: prepared.message,
      nonRetryable: true,
      details: [{ field: prepared.field }],
    });
  }
  return prepared;
}

/**
 * Holds the call on a Temporal timer until the recipient's calling hours open (asked again when the timer fires: a
 * DST change moves the opening). A number whose zone cannot be told is never dialed blind.
 */
async function waitForRecipientHours(state: CallState, toPhoneNumber: string): Promise<void> {
  for (;;) {
    const hours = await recipientHours.executeWithOptions({ summary: "check the recipient's calling hours" }, [
      { toPhoneNumber, at: Date.now() },
    ]);
    if (hours.kind === 'open') {
      delete state.heldForHours;
      return;
    }
    if (hours.kind === 'unknown') {
      throw ApplicationFailure.create({
        type: FailureType.CallingHoursUnknown,
        message: `The recipient's calling hours cannot be checked: ${hours.reason}.`,
        nonRetryable: true,
        details: [{ reason: hours.reason }],
      });
    }
    state.heldForHours = { hours: hours.hours, until: new Date(hours.opensAt).toISOString() };
    enter(state, 'waiting_for_hours');
    await sleep(Math.max(1_000, hours.opensAt - Date.now()), {
      summary: `outside the recipient's calling hours ${hours.hours}: wait until ${state.heldForHours.until}`,
    });
  }
}

function slotAsk(slot: CampaignDialSlot | undefined): Omit<SlotAsk, 'key'> {
  if (!slot) return { priority: 'call' };
  return {
    priority: 'campaign',
    campaignId: slot.campaignId,
    ...(slot.share ? { share: slot.share } : {}),
    ...(slot.cap ? { cap: slot.cap } : {}),
  };
}

function waitSummary(slot: CampaignDialSlot | undefined): string {
  return slot
    ? `wait for a dial slot (campaign ${slot.campaignId}, behind single calls)`
    : 'wait for a dial slot (single call: first in line)';
}

function isRateLimited(outcome: unknown): outcome is RateLimited {
  return (outcome as RateLimited).kind === 'rate_limited';
}

type Read = Extract<GetCallOutcome, { kind: 'call' }>;

/** The contract's 429 rule: wait 60 s on a durable timer, try once more, and stop if it is refused again. */
async function withOneRateLimitWait<T>(
  state: CallState,
  timing: ResolvedTiming,
  label: string,
  attempt: (summary: string) => Promise<T | RateLimited>,
): Promise<T> {
  const first = await attempt(label);
  if (!isRateLimited(first)) return first;

  const phase = state.phase;
  enter(state, 'rate_limited');
  await sleep(timing.rateLimitWaitMs, { summary: `rate limited: waiting ${seconds(timing.rateLimitWaitMs)}` });
  enter(state, phase);
  const second = await attempt(`${label} (retry after 429)`);
  if (!isRateLimited(second)) return second;
  throw ApplicationFailure.create({
    type: FailureType.RateLimited,
    message: `AgentPhone rate-limited the ${label} twice, ${seconds(timing.rateLimitWaitMs)} apart. Try again later.`,
    nonRetryable: true,
    details: state.callId ? [{ callId: state.callId, lastStatus: state.lastStatus }] : [],
  });
}

/** Upserts the call's status for list filters in the Web UI, once per change (every upsert is a history event). */
function indexStatus(index: { enabled: boolean; status: string }, status: string): void {
  if (!index.enabled || index.status === status) return;
  index.status = status;
  upsertSearchAttributes([{ key: searchAttributes.callStatus, value: status }]);
}

type OnRead = (status: string) => void;

/** Reads the status every poll interval until a terminal status, or fails with CallTimedOut at the deadline. */
async function pollUntilTerminal(
  state: CallState,
  timing: ResolvedTiming,
  callId: string,
  deadline: number,
  onRead: OnRead,
) {
  for (;;) {
    const wait = Math.min(timing.pollIntervalMs, deadline - Date.now());
    if (wait > 0) await sleep(wait, { summary: `poll ${state.polls + 1} in ${seconds(wait)}` });
    const call = await read(state, timing, callId, `poll ${state.polls + 1}`);
    onRead(call.status);
    if (terminalStatuses.includes(call.status)) return call;
    if (Date.now() >= deadline) {
      throw ApplicationFailure.create({
        type: FailureType.CallTimedOut,
        message: `Call ${callId} reached no final status within ${seconds(timing.callTimeoutMs)} (last status: ${call.status}).`,
        nonRetryable: true,
        details: [{ callId, lastStatus: call.status }],
      });
    }
  }
}

/** Transcript and summary may arrive shortly after completion: the contract asks for two more reads, 2 s apart. */
async function awaitEnrichment(state: CallState, timing: ResolvedTiming, call: Read, onRead: OnRead): Promise<Read> {
  for (let i = 1; i <= timing.enrichmentPolls && !isEnriched(call); i++) {
    enter(state, 'enriching');
    await sleep(timing.enrichmentIntervalMs, {
      summary: `enrichment poll ${i} of ${timing.enrichmentPolls} in ${seconds(timing.enrichmentIntervalMs)}`,
    });
    call = await read(state, timing, call.callId, `enrichment poll ${i}`);
    onRead(call.status);
  }
  return call;
}

async function read(state: CallState, timing: ResolvedTiming, callId: string, label: string): Promise<Read> {
  const call = await withOneRateLimitWait(state, timing, label, (summary) =>
    getCall.executeWithOptions({ summary }, [callId]),
  );
  state.polls++;
  state.lastStatus = call.status;
  showDetails(state);
  return call;
}

function isEnriched(call: Read): boolean {
  return Boolean(call.summary && call.transcript && isOutcome(call.outcome));
}

function isOutcome(value: string | undefined): value is CallOutcome {
  return (outcomes as readonly string[]).includes(value ?? '');
}

function toResult(call: Read, polls: number, creditsRemaining: number | undefined): CallResult {
  const { kind: _kind, status: _status, outcome, ...rest } = call;
  if (!isOutcome(outcome)) {
    throw ApplicationFailure.create({
      type: FailureType.UnexpectedResponse,
      message: `Call ${call.callId} completed without a known outcome (got ${JSON.stringify(outcome ?? null)}).`,
      nonRetryable: true,
      details: [{ callId: call.callId, lastStatus: call.status }],
    });
  }
  return {
    ...rest,
    status: 'completed',
    outcome,
    polls,
    ...(creditsRemaining === undefined ? {} : { creditsRemaining }),
  };
}

function callEnded(type: FailureType, verb: string, call: Read): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message: `Call ${call.callId} ${verb} at AgentPhone.`,
    nonRetryable: true,
    details: [{ callId: call.callId, lastStatus: call.status }],
  });
}

/**
 * Activity failures arrive wrapped in ActivityFailure; the public contract is a bare ApplicationFailure with one of
 * the FailureType names as the workflow's failure cause. Retries exhausted on a transient fault become ApiUnavailable.
 */
function asCallFailure(error: unknown): unknown {
  if (!(error instanceof ActivityFailure)) return error;
  const cause = error.cause;
  const known = Object.values(FailureType) as string[];
  if (cause instanceof ApplicationFailure && cause.type && known.includes(cause.type)) {
    return ApplicationFailure.create({
      type: cause.type,
      message: cause.message,
      nonRetryable: true,
      details: cause.details ?? [],
    });
  }
  const reason =
    cause instanceof TimeoutFailure ? `timed out (${cause.timeoutType})` : (cause?.message ?? error.message);
  return ApplicationFailure.create({
    type: FailureType.ApiUnavailable,
    message: `AgentPhone could not be reached: ${error.activityType} ${reason}.`,
    nonRetryable: true,
  });
}

function enter(state: CallState, phase: CallState['phase']): void {
  state.phase = phase;
  showDetails(state);
}

/** The live state, as the Web UI shows it under "Current details". */
function showDetails(state: CallState): void {
  const rows = [
    ['phase', state.phase],
    ['call id', state.callId ?? '—'],
    ['last status', state.lastStatus ?? '—'],
    ['polls', String(state.polls)],
    ['deadline', state.deadline ?? '—'],
    ...(state.earlierRunId ? [['placed by earlier run', state.earlierRunId]] : []),
    ...(state.heldForHours
      ? [['held for calling hours', `${state.heldForHours.hours} until ${state.heldForHours.until}`]]
      : []),
    ...(state.waitedForSlotMs !== undefined ? [['waited for a dial slot', seconds(state.waitedForSlotMs)]] : []),
    ...(state.failure ? [['failure', state.failure]] : []),
  ];
  setCurrentDetails(['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n'));
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}
