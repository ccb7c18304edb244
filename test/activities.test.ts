import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities';
import { createAgentPhoneClient } from '../src/agentphone';
import { FailureType } from '../src/shared/failures';
import { magicNumbers, type Simulator, startSimulator } from '../src/simulator';

const apiKey = 'sk_activities_SECRET_1b2c';
let sim: Simulator;
let odd: Server;
let oddUrl: string;
/** What the stand-in server answers next: bodies the simulator never sends (missing fields, wrong types). */
let oddReply: { status: number; body: string; type?: string } = { status: 200, body: '{}' };

beforeAll(async () => {
  sim = await startSimulator({ apiKey, progress: 'polls', credits: Number.POSITIVE_INFINITY });
  odd = createServer((_req, res) => {
    res.writeHead(oddReply.status, { 'content-type': oddReply.type ?? 'application/json' });
    res.end(oddReply.body);
  });
  await new Promise<void>((resolve) => odd.listen(0, '127.0.0.1', resolve));
  oddUrl = `http://127.0.0.1:${(odd.address() as AddressInfo).port}/api/v1`;
});

afterAll(async () => {
  await sim.close();
  odd.closeAllConnections();
  await new Promise((resolve) => odd.close(resolve));
});

beforeEach(() => sim.reset());

const activities = (baseUrl = sim.baseUrl, timeoutMs = 2000) =>
  createActivities({ client: createAgentPhoneClient({ apiKey, baseUrl, timeoutMs }) });
const env = () =>
  new MockActivityEnvironment(
    { workflowExecution: { workflowId: 'wf-activities', runId: 'run-1' } },
    { logger: new DefaultLogger('ERROR') },
  );
const request = { toPhoneNumber: magicNumbers.achieved, objective: 'Ask about the return policy' };

async function failureOf(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  const failure = error as ApplicationFailure;
  expect(failure.message).not.toContain(apiKey);
  return { type: failure.type, retryable: !failure.nonRetryable, message: failure.message };
}

describe('createCall and getCall over real HTTP', () => {
  it('creates a call with x-api-key and an idempotency key that is the same for every attempt of a run', async () => {
    const first = await env().run(activities().createCall, request);
    const again = await env().run(activities().createCall, request);
    expect(first).toMatchObject({ kind: 'created', status: 'queued', callId: expect.stringMatching(/^cl_/) });
    expect(again).toMatchObject({ kind: 'created', callId: (first as { callId: string }).callId });
    const [a, b] = sim.requests();
    expect(a?.apiKeyValid).toBe(true);
    expect(a?.idempotencyKey).toBeTruthy();
    expect(b?.idempotencyKey).toBe(a?.idempotencyKey);
    expect(sim.stats().creates).toBe(1);
  });

  it('returns a 429 to the workflow as data, with Retry-After, instead of failing', async () => {
    const outcome = await env().run(activities().createCall, {
      ...request,
      toPhoneNumber: magicNumbers.rateLimitedOnce,
    });
    expect(outcome).toMatchObject({ kind: 'rate_limited', retryAfterSeconds: expect.any(Number) });
  });

  it.each([
    [magicNumbers.badRequest, FailureType.InvalidInput],
    [magicNumbers.insufficientCredits, FailureType.InsufficientCredits],
  ])('fails a create to %s with the non-retryable %s', async (toPhoneNumber, type) => {
    expect(await failureOf(env().run(activities().createCall, { ...request, toPhoneNumber }))).toMatchObject({
      type,
      retryable: false,
    });
  });

  it('fails with non-retryable Unauthorized on a wrong key, naming the variable and never the key', async () => {
    const wrong = createActivities({
      client: createAgentPhoneClient({ apiKey: 'sk_wrong_key', baseUrl: sim.baseUrl }),
    });
    const failure = await failureOf(env().run(wrong.getCall, 'cl_x'));
    expect(failure).toMatchObject({ type: FailureType.Unauthorized, retryable: false });
    expect(failure.message).toContain('AGENTPHONE_API_KEY');
    expect(failure.message).not.toContain('sk_wrong_key');
  });

  it.each([
    ['a 500', { kind: 'status500' as const }, FailureType.ApiUnavailable],
    ['a 503', { kind: 'status503' as const }, FailureType.ApiUnavailable],
    ['a reset connection', { kind: 'reset' as const }, FailureType.ApiUnavailable],
    ['malformed JSON', { kind: 'malformedJson' as const }, FailureType.UnexpectedResponse],
    ['an HTML error page', { kind: 'html' as const }, FailureType.ApiUnavailable],
    ['an answer slower than the HTTP timeout', { kind: 'delay' as const, delayMs: 1500 }, FailureType.ApiUnavailable],
  ])('leaves a read that got %s retryable, as %s', async (_name, fault, type) => {
    const created = await env().run(activities().createCall, request);
    sim.faults.add({ on: 'get', count: 1, ...fault });
    const failure = await failureOf(
      env().run(activities(sim.baseUrl, 1000).getCall, (created as { callId: string }).callId),
    );
    expect(failure).toMatchObject({ type, retryable: true });
  });

  it('reports a status value the contract does not list as it is, for the workflow to keep polling', async () => {
    const created = await env().run(activities().createCall, { ...request, toPhoneNumber: magicNumbers.unknownStatus });
    const read = await env().run(activities().getCall, (created as { callId: string }).callId);
    expect(read).toMatchObject({ kind: 'call', status: 'ringing' });
  });

  it('fails a read of an unknown call with the non-retryable CallNotFound', async () => {
    expect(await failureOf(env().run(activities().getCall, 'cl_does_not_exist'))).toMatchObject({
      type: FailureType.CallNotFound,
      retryable: false,
    });
  });

  it.each([
    ['no data at all', '{}'],
    ['a call without a status', '{"data":{"call_id":"cl_1"}}'],
    ['a status that is not a string', '{"data":{"call_id":"cl_1","status":7}}'],
    ['a JSON array', '[]'],
  ])('treats a 200 with %s as a retryable UnexpectedResponse', async (_name, body) => {
    oddReply = { status: 200, body };
    const failure = await failureOf(env().run(activities(oddUrl).getCall, 'cl_1'));
    expect(failure).toMatchObject({ type: FailureType.UnexpectedResponse, retryable: true });
    expect(failure.message).toMatch(/contract|JSON/);
  });

  it('fails a 202 create without a call id as CallOutcomeUnknown: the call was probably placed, so it is not sent again', async () => {
    oddReply = { status: 202, body: '{"data":{"status":"queued"}}' };
    expect(await failureOf(env().run(activities(oddUrl).createCall, request))).toMatchObject({
      type: FailureType.CallOutcomeUnknown,
      retryable: false,
    });
  });

  it('with AGENTPHONE_IDEMPOTENCY=trusted, treats a 202 create without a call id as retryable with the same key', async () => {
    oddReply = { status: 202, body: '{"data":{"status":"queued"}}' };
    const trusted = createActivities({
      client: createAgentPhoneClient({ apiKey, baseUrl: oddUrl, timeoutMs: 2000 }),
      idempotency: 'trusted',
    });
    expect(await failureOf(env().run(trusted.createCall, request))).toMatchObject({
      type: FailureType.UnexpectedResponse,
      retryable: true,
    });
  });

  it('answers the guard rails as data and never sends a request', async () => {
    const verdict = await env().run(activities().prepareCall, { toPhoneNumber: '112', objective: 'x' });
    expect(verdict).toMatchObject({ ok: false, type: FailureType.ForbiddenNumber, field: 'toPhoneNumber' });
    expect(sim.requests()).toHaveLength(0);
  });
});
