import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities';
import { createAgentPhoneClient } from '../src/agentphone';
import { FailureType } from '../src/shared/failures';
import { magicNumbers, type Simulator, startSimulator } from '../src/simulator';
import { placeCallWorkflow } from '../src/workflows';
import type { PlaceCallInput } from '../src/shared/call-types';
import { freePort } from './helpers/browser';
import {
  createTimeSkippingEnv,
  historyOf,
  recordHistory,
  scheduledActivities,
  timerDurations,
  uniqueId,
  uniqueTaskQueue,
  workflowBundle,
} from './helpers/temporal';
import { callStateQuery } from '../src/shared/messages';

// A key that would be easy to spot anywhere it leaks: histories are searched for it at the end.
const apiKey = 'sk_live_place_call_SECRET_9f3c';

let env: TestWorkflowEnvironment;
let sim: Simulator;
const handles: WorkflowHandle[] = [];

beforeAll(async () => {
  [env, sim] = await Promise.all([
    createTimeSkippingEnv(),
    startSimulator({ apiKey, progress: 'polls', credits: Number.POSITIVE_INFINITY, slowCreateMs: 1500 }),
  ]);
});

afterAll(async () => {
  await sim?.close();
  await env?.teardown();
});

beforeEach(() => sim.reset());

interface RunOptions {
  key?: string;
  httpTimeoutMs?: number;
  record?: string;
  /** AGENTPHONE_IDEMPOTENCY. @default the package's: untrusted */
  idempotency?: 'trusted' | 'untrusted';
  baseUrl?: string;
}

/** Runs one placeCallWorkflow to its end on a fresh worker; returns its result or failure and its history. */
async function run(
  input: Partial<PlaceCallInput> | unknown,
  { key = apiKey, httpTimeoutMs, record, idempotency, baseUrl }: RunOptions = {},
) {
  const taskQueue = uniqueTaskQueue('place-call');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({
      client: createAgentPhoneClient({
        apiKey: key,
        baseUrl: baseUrl ?? sim.baseUrl,
        ...(httpTimeoutMs ? { timeoutMs: httpTimeoutMs } : {}),
      }),
      ...(idempotency ? { idempotency } : {}),
    }),
  });
  const handle = await env.client.workflow.start(placeCallWorkflow, {
    args: [input as PlaceCallInput],
    taskQueue,
    workflowId: uniqueId('call'),
  });
  handles.push(handle);
  const outcome = await worker.runUntil(
    handle.result().then(
      (result) => ({ result, error: undefined }),
      (error: unknown) => ({ result: undefined, error }),
    ),
  );
  const events = await historyOf(handle);
  if (record) await recordHistory(handle, record);
  return { ...outcome, events, timers: timerDurations(events), activities: scheduledActivities(events), handle };
}

/** The failure's type, asserting the public shape: an ApplicationFailure directly under WorkflowFailedError. */
function failureOf(error: unknown) {
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause;
  expect(cause).not.toBeInstanceOf(ActivityFailure);
  expect(cause).toBeInstanceOf(ApplicationFailure);
  const failure = cause as ApplicationFailure;
  expect(failure.nonRetryable).toBe(true);
  return { type: failure.type, message: failure.message, details: failure.details ?? [] };
}

const requestsTo = (method: string) => sim.requests().filter((r) => r.method === method);
const call = (toPhoneNumber: string, extra: Partial<PlaceCallInput> = {}) => ({
  toPhoneNumber,
  objective: 'Ask about their return policy',
  ...extra,
});

describe('placeCallWorkflow on the time-skipping server', () => {
  it('creates the call once, polls every 10 s until completed, and returns outcome, summary, transcript and recording', async () => {
    const { result, error, timers, activities } = await run(call(magicNumbers.achieved, { businessName: 'Acme' }), {
      record: 'completed-achieved',
    });
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ status: 'completed', outcome: 'achieved', polls: 3 });
    expect(result?.callId).toMatch(/^cl_/);
    expect(result?.summary).toBeTruthy();
    expect(result?.transcript).toContain('Agent:');
    expect(result?.recordingUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/recordings\//);
    expect(timers).toEqual([10_000, 10_000, 10_000]);
    expect(activities).toEqual(['createCall', 'getCall', 'getCall', 'getCall']);
    const [create] = requestsTo('POST');
    expect(requestsTo('POST')).toHaveLength(1);
    expect(create?.idempotencyKey).toMatch(/^temporal-/);
    expect(requestsTo('GET')).toHaveLength(3);
  });

  it.each([
    [magicNumbers.partial, 'partial'],
    [magicNumbers.notAchieved, 'not_achieved'],
  ])('reports the outcome of %s as %s', async (number, outcome) => {
    const { result } = await run(call(number));
    expect(result?.outcome).toBe(outcome);
  });

  it('gives up with CallTimedOut after 5 minutes of workflow time: 30 polls, 10 s apart', async () => {
    const { error, timers, events } = await run(call(magicNumbers.neverEnds), { record: 'timed-out' });
    const failure = failureOf(error);
    expect(failure.type).toBe(FailureType.CallTimedOut);
    expect(failure.details[0]).toMatchObject({ lastStatus: 'in_progress', callId: expect.stringMatching(/^cl_/) });
    // 30 polls, 10 s apart; the last timer is cut short so the deadline falls 5 minutes after the create.
    expect(timers).toHaveLength(30);
    expect(new Set(timers.slice(0, -1))).toEqual(new Set([10_000]));
    // (Shorter by the workflow time the 29 reads took, which grows on a loaded machine.)
    expect(timers.at(-1)).toBeGreaterThan(0);
    expect(timers.at(-1)).toBeLessThanOrEqual(10_000);
    const created = events.find((e) => e.activityTaskCompletedEventAttributes)?.eventTime;
    const failed = events.find((e) => e.workflowExecutionFailedEventAttributes)?.eventTime;
    const elapsed = Number(failed?.seconds) * 1000 - Number(created?.seconds) * 1000;
    // The last read itself takes a moment of workflow time after the deadline.
    expect(elapsed).toBeGreaterThanOrEqual(299_000);
    expect(elapsed).toBeLessThan(310_000);
    expect(requestsTo('GET')).toHaveLength(30);
  });

  it('waits one 60 s timer after a 429 on create and then creates the call', async () => {
    const { result, timers } = await run(call(magicNumbers.rateLimitedOnce), { record: 'rate-limited-once' });
    expect(result?.outcome).toBe('achieved');
    expect(timers[0]).toBe(60_000);
    expect(timers.slice(1)).toEqual([10_000, 10_000, 10_000]);
    expect(requestsTo('POST').map((r) => r.status)).toEqual([429, 202]);
  });

  it('fails with RateLimited after a second 429: exactly 2 creates, 60 s apart, and never a third', async () => {
    const { error, timers } = await run(call(magicNumbers.rateLimitedAlways));
    expect(failureOf(error).type).toBe(FailureType.RateLimited);
    expect(timers).toEqual([60_000]);
    expect(requestsTo('POST')).toHaveLength(2);
    expect(requestsTo('GET')).toHaveLength(0);
  });

  it('follows the same 60 s rule for a 429 on a status read', async () => {
    const { result, timers } = await run(call(magicNumbers.rateLimitedOnceOnRead));
    expect(result?.outcome).toBe('achieved');
    expect(timers).toEqual([10_000, 60_000, 10_000, 10_000]);
  });

  it.each([
    [magicNumbers.badRequest, FailureType.InvalidInput],
    [magicNumbers.insufficientCredits, FailureType.InsufficientCredits],
  ])('fails %s at once with %s after a single request', async (number, type) => {
    const { error, timers } = await run(call(number));
    expect(failureOf(error).type).toBe(type);
    expect(sim.requests()).toHaveLength(1);
    expect(timers).toEqual([]);
  });

  it('fails with Unauthorized after a single request when the key is wrong', async () => {
    const { error } = await run(call(magicNumbers.achieved), { key: 'sk_wrong' });
    const failure = failureOf(error);
    expect(failure.type).toBe(FailureType.Unauthorized);
    expect(failure.message).toContain('AGENTPHONE_API_KEY');
    expect(failure.message).not.toContain('sk_wrong');
    expect(sim.requests()).toHaveLength(1);
  });

  it('fails with InsufficientCredits when the account runs out, with one request', async () => {
    sim.setCredits(0);
    const { error } = await run(call(magicNumbers.achieved));
    expect(failureOf(error).type).toBe(FailureType.InsufficientCredits);
    expect(sim.requests()).toHaveLength(1);
  });

  it.each([
    ['+1{PHONE_NUMBER}', FailureType.InvalidPhoneNumber],
    ['4155550100', FailureType.InvalidPhoneNumber],
    ['+1 415 555 0100', FailureType.InvalidPhoneNumber],
    ['911', FailureType.ForbiddenNumber],
    ['+1911', FailureType.ForbiddenNumber],
    ['+44999', FailureType.ForbiddenNumber],
    ['+19005550100', FailureType.ForbiddenNumber],
  ])('refuses %s with %s before any request', async (toPhoneNumber, type) => {
    const { error, activities } = await run(call(toPhoneNumber));
    expect(failureOf(error).type).toBe(type);
    expect(sim.requests()).toHaveLength(0);
    expect(activities).toEqual([]);
  });

  it.each([
    ['an empty objective', call(magicNumbers.achieved, { objective: '  ' })],
    ['a website that is not http(s)', call(magicNumbers.achieved, { website: 'ftp://example.com' })],
    ['a poll interval below 100 ms', call(magicNumbers.achieved, { timing: { pollInterval: 5 } })],
    ['no argument at all', null],
  ])('refuses %s with InvalidInput before any request', async (_name, input) => {
    const { error } = await run(input);
    expect(failureOf(error).type).toBe(FailureType.InvalidInput);
    expect(sim.requests()).toHaveLength(0);
  });

  it('reads twice more, 2 s apart, when transcript and summary never arrive, then returns what there is', async () => {
    const { result, timers } = await run(call(magicNumbers.noEnrichment), { record: 'no-enrichment' });
    expect(result).toMatchObject({ status: 'completed', outcome: 'achieved', polls: 5 });
    expect(result?.summary).toBeUndefined();
    expect(result?.transcript).toBeUndefined();
    expect(timers).toEqual([10_000, 10_000, 10_000, 2_000, 2_000]);
    expect(requestsTo('GET')).toHaveLength(5);
  });

  it('returns the transcript and summary that arrive during the re-reads', async () => {
    const { result, timers } = await run(call(magicNumbers.lateEnrichment));
    expect(result?.summary).toBeTruthy();
    expect(result?.transcript).toBeTruthy();
    expect(timers).toEqual([10_000, 10_000, 10_000, 2_000, 2_000]);
  });

  it.each([
    [magicNumbers.failed, FailureType.CallFailed, 'failed'],
    [magicNumbers.canceled, FailureType.CallCanceled, 'canceled'],
  ])('ends %s with %s, carrying the call id and last status', async (number, type, lastStatus) => {
    const { error } = await run(call(number), { record: type === FailureType.CallFailed ? 'call-failed' : undefined });
    const failure = failureOf(error);
    expect(failure.type).toBe(type);
    expect(failure.details[0]).toEqual({ callId: expect.stringMatching(/^cl_/), lastStatus });
  });

  it('by default fails a create that got a 500 with CallOutcomeUnknown after one request, and never sends it again', async () => {
    const { error } = await run(call(magicNumbers.serverErrorOnce));
    const failure = failureOf(error);
    expect(failure.type).toBe(FailureType.CallOutcomeUnknown);
    expect(failure.details[0]).toMatchObject({
      idempotencyKey: expect.stringMatching(/^temporal-/),
      sentAt: expect.any(String),
    });
    expect(requestsTo('POST').map((r) => r.status)).toEqual([500]);
  });

  it('by default fails a create whose answer came too late with CallOutcomeUnknown, and never sends it again', async () => {
    const { error } = await run(call(magicNumbers.slowCreate), { httpTimeoutMs: 1000 });
    expect(failureOf(error).type).toBe(FailureType.CallOutcomeUnknown);
    await expect.poll(() => requestsTo('POST').length, { timeout: 8000 }).toBe(1);
    expect(sim.stats().creates).toBe(1);
  });

  it('retries a create that never reached the API (connection refused) and fails ApiUnavailable, not CallOutcomeUnknown', async () => {
    const { error } = await run(call(magicNumbers.achieved), {
      baseUrl: `http://127.0.0.1:${await freePort()}/api/v1`,
    });
    expect(failureOf(error).type).toBe(FailureType.ApiUnavailable);
    expect(sim.requests()).toHaveLength(0);
  });

  it('with AGENTPHONE_IDEMPOTENCY=trusted retries a create that got a 500 with the same key, and one call exists', async () => {
    const { result } = await run(call(magicNumbers.serverErrorOnce), { idempotency: 'trusted' });
    expect(result?.outcome).toBe('achieved');
    const creates = requestsTo('POST');
    expect(creates.map((r) => r.status)).toEqual([500, 202]);
    expect(new Set(creates.map((r) => r.idempotencyKey)).size).toBe(1);
    expect(sim.stats().creates).toBe(1);
  });

  it('with AGENTPHONE_IDEMPOTENCY=trusted retries a create whose answer came too late, and gets the same call back', async () => {
    const { result } = await run(call(magicNumbers.slowCreate), {
      httpTimeoutMs: 1000,
      record: 'slow-create',
      idempotency: 'trusted',
    });
    expect(result?.outcome).toBe('achieved');
    // The simulator logs the slow request when its late answer goes out, after the retry's.
    await expect.poll(() => requestsTo('POST').length, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    expect(new Set(requestsTo('POST').map((r) => r.idempotencyKey)).size).toBe(1);
    expect(sim.stats().creates).toBe(1);
  });

  it.each([
    ['a 500', magicNumbers.serverErrorOnceOnRead],
    ['malformed JSON', magicNumbers.malformedJsonOnceOnRead],
    ['an HTML error page', magicNumbers.htmlErrorOnceOnRead],
  ])('retries a status read that got %s and completes', async (_fault, number) => {
    const { result } = await run(call(number));
    expect(result?.outcome).toBe('achieved');
  });

  it('keeps polling through a status value the contract does not list', async () => {
    const { result } = await run(call(magicNumbers.unknownStatus));
    expect(result?.outcome).toBe('achieved');
    expect(result?.polls).toBeGreaterThan(3);
  });

  it('fails with CallNotFound when the API forgets the call', async () => {
    const { error } = await run(call(magicNumbers.vanishes));
    expect(failureOf(error).type).toBe(FailureType.CallNotFound);
  });

  it('answers the callState query with phase, call id, last status, polls and deadline', async () => {
    const taskQueue = uniqueTaskQueue('query');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities({ client: createAgentPhoneClient({ apiKey, baseUrl: sim.baseUrl }) }),
    });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(placeCallWorkflow, {
        args: [call(magicNumbers.neverEnds)],
        taskQueue,
        workflowId: uniqueId('call'),
      });
      handles.push(handle);
      await env.sleep('25s');
      const state = await handle.query(callStateQuery);
      expect(state).toMatchObject({ phase: 'polling', lastStatus: 'in_progress', polls: 2 });
      expect(state.callId).toMatch(/^cl_/);
      expect(Date.parse(state.deadline ?? '')).toBeGreaterThan(Date.now());
      await handle.terminate('test over');
    });
  });

  it('never writes the API key into any workflow history', async () => {
    expect(handles.length).toBeGreaterThan(20);
    for (const handle of handles) {
      const history = JSON.stringify(await handle.fetchHistory());
      expect(history).not.toContain(apiKey);
    }
  });
});
