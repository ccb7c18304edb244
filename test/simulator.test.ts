import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import parsePhoneNumber from 'libphonenumber-js/max';
import { afterEach, describe, expect, it } from 'vitest';
import { magicNumbers, startSimulator, type Simulator, type SimulatorOptions } from '../src/simulator';

interface CallData {
  call_id: string;
  status: string;
  created_at: string;
  outcome?: string;
  summary?: string;
  transcript?: string;
  recording_url?: string;
  duration_seconds?: number;
}

interface Created {
  data: { call_id: string; status: string; created_at: string };
  credits_remaining: number;
}

interface ApiError {
  error: { code: string; message: string };
}

const objective = 'Ask about their return policy';
const body = (to: string = magicNumbers.achieved) => ({ to_phone_number: to, objective, business_name: "Luigi's" });

const started: Simulator[] = [];

async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator(options);
  started.push(sim);
  return sim;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

/** A sim clock the test moves by hand. */
function manualClock(start = Date.parse('2026-01-01T00:00:00Z')) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

interface CreateOptions {
  key?: string | null;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

function create(sim: Simulator, payload: unknown, { key = sim.apiKey, idempotencyKey, signal }: CreateOptions = {}) {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (key !== null) headers['x-api-key'] = key;
  if (idempotencyKey !== undefined) headers['Idempotency-Key'] = idempotencyKey;
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return fetch(`${sim.baseUrl}/calls`, { method: 'POST', headers, body: text, signal });
}

function read(sim: Simulator, callId: string, key: string = sim.apiKey) {
  return fetch(`${sim.baseUrl}/calls/${callId}`, { headers: { 'x-api-key': key } });
}

async function jsonOf<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

async function createCall(sim: Simulator, to: string = magicNumbers.achieved): Promise<string> {
  const response = await create(sim, body(to));
  expect(response.status).toBe(202);
  return (await jsonOf<Created>(response)).data.call_id;
}

async function poll(sim: Simulator, callId: string): Promise<CallData> {
  const response = await read(sim, callId);
  expect(response.status).toBe(200);
  return (await jsonOf<{ data: CallData }>(response)).data;
}

async function statusesOf(sim: Simulator, callId: string, polls: number): Promise<string[]> {
  const statuses: string[] = [];
  for (let i = 0; i < polls; i++) statuses.push((await poll(sim, callId)).status);
  return statuses;
}

async function expectError(response: Response, status: number, code: string): Promise<ApiError> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const error = await jsonOf<ApiError>(response);
  expect(error.error.code).toBe(code);
  expect(error.error.message).not.toBe('');
  return error;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

function origin(sim: Simulator): string {
  return sim.baseUrl.replace(/\/api\/v1$/, '');
}

describe('authentication', () => {
  it('refuses a create without x-api-key with 401 unauthorized', async () => {
    const sim = await start();
    await expectError(await create(sim, body(), { key: null }), 401, 'unauthorized');
    expect(sim.calls()).toHaveLength(0);
  });

  it('refuses creates and reads with a wrong key, and the request log never holds either key', async () => {
    const sim = await start({ apiKey: 'sim_secret_right', progress: 'polls' });
    const callId = await createCall(sim);
    await expectError(await create(sim, body(), { key: 'sim_secret_wrong' }), 401, 'unauthorized');
    await expectError(await read(sim, callId, 'sim_secret_wrong'), 401, 'unauthorized');

    const log = JSON.stringify(sim.requests());
    expect(log).not.toContain('sim_secret_right');
    expect(log).not.toContain('sim_secret_wrong');
    expect(sim.requests().map((entry) => entry.apiKeyValid)).toEqual([true, false, false]);
  });

  it('checks the key before the body', async () => {
    const sim = await start();
    await expectError(await create(sim, 'not json', { key: null }), 401, 'unauthorized');
  });
});

describe('body validation', () => {
  it.each([
    ['a body that is not JSON', '{"to_phone_number":'],
    ['a JSON array', [body()]],
    ['a missing to_phone_number', { objective }],
    ['a number without +', { to_phone_number: '14155551234', objective }],
    ['a number starting with +0', { to_phone_number: '+04155551234', objective }],
    ['a number longer than 15 digits', { to_phone_number: '+1415555123456789', objective }],
    ['a missing objective', { to_phone_number: magicNumbers.achieved }],
    ['a blank objective', { to_phone_number: magicNumbers.achieved, objective: '   ' }],
    ['a business_name that is not a string', { ...body(), business_name: 42 }],
    ['a website that is not a URL', { ...body(), website: 'luigis' }],
    ['a website that is not http(s)', { ...body(), website: 'ftp://luigis.example' }],
  ])('refuses %s with 400 invalid_input, creating nothing and using no credit', async (_, payload) => {
    const sim = await start();
    await expectError(await create(sim, payload), 400, 'invalid_input');
    expect(sim.calls()).toHaveLength(0);
    expect(sim.credits()).toBe(5);
  });

  it('reports every problem of a body together', async () => {
    const sim = await start();
    const { error } = await expectError(
      await create(sim, { to_phone_number: '555', website: 'x' }),
      400,
      'invalid_input',
    );
    expect(error.message).toContain('to_phone_number');
    expect(error.message).toContain('objective');
    expect(error.message).toContain('website');
  });

  it('accepts an http(s) website and a business name', async () => {
    const sim = await start();
    const response = await create(sim, { ...body(), website: 'https://luigis.example/menu' });
    expect(response.status).toBe(202);
    expect(sim.calls()[0]).toMatchObject({ businessName: "Luigi's", website: 'https://luigis.example/menu' });
  });
});

describe('creating calls', () => {
  it('answers 202 with a call id, status queued, the creation time and the credits left', async () => {
    const clock = manualClock();
    const sim = await start({ now: clock.now });
    const first = await create(sim, body());
    expect(first.status).toBe(202);
    expect(await jsonOf<Created>(first)).toEqual({
      data: {
        call_id: expect.stringMatching(/^cl_[a-z0-9]+$/),
        status: 'queued',
        created_at: '2026-01-01T00:00:00.000Z',
      },
      credits_remaining: 4,
    });
    expect((await jsonOf<Created>(await create(sim, body()))).credits_remaining).toBe(3);
  });

  it('refuses the sixth create with 402 insufficient_credits after the five free calls', async () => {
    const sim = await start();
    for (let i = 0; i < 5; i++) await createCall(sim);
    await expectError(await create(sim, body()), 402, 'insufficient_credits');
    expect(sim.credits()).toBe(0);
    expect(sim.stats().creates).toBe(5);
  });

  it('never runs out with Infinity credits and still reports credits_remaining as a number', async () => {
    const sim = await start({ credits: Infinity });
    const created = await jsonOf<Created>(await create(sim, body()));
    expect(created.credits_remaining).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('takes new credits from setCredits', async () => {
    const sim = await start({ credits: 0 });
    await expectError(await create(sim, body()), 402, 'insufficient_credits');
    sim.setCredits(1);
    expect((await jsonOf<Created>(await create(sim, body()))).credits_remaining).toBe(0);
  });
});

describe('idempotency', () => {
  it('answers a retry with the same key and body with the same call and uses no credit', async () => {
    const sim = await start();
    const first = await jsonOf<Created>(await create(sim, body(), { idempotencyKey: 'key-1' }));
    const again = await jsonOf<Created>(await create(sim, body(), { idempotencyKey: 'key-1' }));
    expect(again).toEqual(first);
    expect(sim.calls()).toHaveLength(1);
    expect(sim.credits()).toBe(4);
    expect(sim.requests().map((entry) => entry.idempotencyKey)).toEqual(['key-1', 'key-1']);
  });

  it('treats the same fields in another order as the same body', async () => {
    const sim = await start();
    const { to_phone_number, business_name } = body();
    const first = await jsonOf<Created>(await create(sim, body(), { idempotencyKey: 'key-1' }));
    const reordered = `{ "business_name": ${JSON.stringify(business_name)}, "objective": "${objective}", "to_phone_number": "${to_phone_number}" }`;
    const again = await jsonOf<Created>(await create(sim, reordered, { idempotencyKey: 'key-1' }));
    expect(again.data.call_id).toBe(first.data.call_id);
  });

  it('refuses the same key with a different body with 409 conflict', async () => {
    const sim = await start();
    await create(sim, body(), { idempotencyKey: 'key-1' });
    await expectError(await create(sim, body(magicNumbers.partial), { idempotencyKey: 'key-1' }), 409, 'conflict');
    expect(sim.calls()).toHaveLength(1);
  });

  it('replays a call while the rate window is full or the credits are gone, using neither', async () => {
    const sim = await start({ credits: 1, rateLimit: { limit: 1, windowMs: 60_000 } });
    const first = await jsonOf<Created>(await create(sim, body(), { idempotencyKey: 'key-1' }));
    const again = await create(sim, body(), { idempotencyKey: 'key-1' });
    expect(again.status).toBe(202);
    expect((await jsonOf<Created>(again)).data).toEqual(first.data);
    expect(sim.stats().creates).toBe(1);
  });

  it('forgets a key after 24 hours of sim time', async () => {
    const clock = manualClock();
    const sim = await start({ now: clock.now });
    const first = await jsonOf<Created>(await create(sim, body(), { idempotencyKey: 'key-1' }));
    clock.advance(24 * 60 * 60 * 1000);
    const later = await jsonOf<Created>(await create(sim, body(), { idempotencyKey: 'key-1' }));
    expect(later.data.call_id).not.toBe(first.data.call_id);
    expect(sim.calls()).toHaveLength(2);
  });
});

describe('rate limit', () => {
  it('accepts 10 creates per 60 s window and refuses the 11th with 429 and Retry-After', async () => {
    const clock = manualClock();
    const sim = await start({ credits: Infinity, now: clock.now });
    for (let i = 0; i < 10; i++) await createCall(sim);
    clock.advance(15_000);
    const refused = await create(sim, body());
    await expectError(refused, 429, 'rate_limited');
    expect(refused.headers.get('retry-after')).toBe('45');

    clock.advance(45_000);
    expect((await create(sim, body())).status).toBe(202);
  });

  it('scales the window by timeScale, so 10 per 60 s becomes 10 per second at 1/60', async () => {
    const clock = manualClock();
    const sim = await start({ credits: Infinity, timeScale: 1 / 60, now: clock.now });
    for (let i = 0; i < 10; i++) await createCall(sim);
    const refused = await create(sim, body());
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    clock.advance(1000);
    expect((await create(sim, body())).status).toBe(202);
  });

  it('counts only accepted creates, across all keys', async () => {
    const sim = await start({ credits: Infinity, rateLimit: { limit: 2, windowMs: 60_000 } });
    for (let i = 0; i < 5; i++) await create(sim, { objective });
    await create(sim, body(), { key: 'wrong' });
    await createCall(sim);
    await createCall(sim);
    expect((await create(sim, body())).status).toBe(429);
  });

  it('checks the rate limit before the credits', async () => {
    const sim = await start({ credits: 1, rateLimit: { limit: 1, windowMs: 60_000 } });
    await createCall(sim);
    await expectError(await create(sim, body()), 429, 'rate_limited');
  });

  it('really waits in wall time when no clock is injected', async () => {
    const sim = await start({ credits: Infinity, rateLimit: { limit: 1, windowMs: 200 } });
    await createCall(sim);
    expect((await create(sim, body())).status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await create(sim, body())).status).toBe(202);
  });
});

describe('lifecycle in polls mode', () => {
  it.each([
    ['achieved', magicNumbers.achieved],
    ['partial', magicNumbers.partial],
    ['not_achieved', magicNumbers.notAchieved],
    ['achieved', '+14155551234'],
  ])('moves one step per GET and completes with outcome %s for %s', async (outcome, number) => {
    const sim = await start({ progress: 'polls' });
    const callId = await createCall(sim, number);
    expect(sim.calls()[0]?.status).toBe('queued');
    expect(await statusesOf(sim, callId, 2)).toEqual(['dialing', 'in_progress']);

    const done = await poll(sim, callId);
    expect(done).toMatchObject({ call_id: callId, status: 'completed', outcome });
    expect(done.summary).toContain(objective);
    expect(done.summary).toContain("Luigi's");
    expect(done.transcript?.split('\n').length).toBeGreaterThan(2);
    expect(done.transcript).toMatch(/^Agent: .+\nHost: .+/);
    expect(done.recording_url).toBe(`${origin(sim)}/recordings/${callId}.wav`);
    expect(Number.isInteger(done.duration_seconds)).toBe(true);
    expect(sim.calls()[0]).toMatchObject({ status: 'completed', reads: 3 });
  });

  it.each([
    ['failed', magicNumbers.failed],
    ['canceled', magicNumbers.canceled],
  ])('ends %s on the third GET with no outcome or results', async (status, number) => {
    const sim = await start({ progress: 'polls' });
    const callId = await createCall(sim, number);
    expect(await statusesOf(sim, callId, 4)).toEqual(['dialing', 'in_progress', status, status]);
    expect(Object.keys(await poll(sim, callId)).sort()).toEqual(['call_id', 'created_at', 'status']);
  });

  it('keeps the neverEnds call in_progress however often it is polled', async () => {
    const sim = await start({ progress: 'polls' });
    const callId = await createCall(sim, magicNumbers.neverEnds);
    const statuses = await statusesOf(sim, callId, 10);
    expect(statuses.slice(1)).toEqual(Array(9).fill('in_progress'));
  });

  it('gives the lateEnrichment call its summary on the second GET after it completed', async () => {
    const sim = await start({ progress: 'polls' });
    const callId = await createCall(sim, magicNumbers.lateEnrichment);
    await statusesOf(sim, callId, 2);
    const completed = await poll(sim, callId);
    const oneLater = await poll(sim, callId);
    const twoLater = await poll(sim, callId);
    for (const early of [completed, oneLater]) {
      expect(early).toMatchObject({ status: 'completed', outcome: 'achieved' });
      expect(early.summary).toBeUndefined();
      expect(early.transcript).toBeUndefined();
    }
    expect(twoLater.summary).toContain(objective);
    expect(twoLater.transcript).toContain('Agent:');
  });

  it('never gives the noEnrichment call a summary or transcript', async () => {
    const sim = await start({ progress: 'polls' });
    const callId = await createCall(sim, magicNumbers.noEnrichment);
    await statusesOf(sim, callId, 8);
    const last = await poll(sim, callId);
    expect(last).toMatchObject({ status: 'completed', outcome: 'achieved' });
    expect(last.recording_url).toBeDefined();
    expect(last.summary).toBeUndefined();
    expect(last.transcript).toBeUndefined();
  });
});

describe('lifecycle in time mode', () => {
  it('follows the clock: dialing at 3 s, in_progress at 8 s, completed with results at 34 s', async () => {
    const clock = manualClock();
    const sim = await start({ now: clock.now });
    const callId = await createCall(sim);
    const at = async (ms: number) => {
      clock.advance(ms);
      return poll(sim, callId);
    };
    expect((await at(2999)).status).toBe('queued');
    expect((await at(1)).status).toBe('dialing');
    expect((await at(4999)).status).toBe('dialing');
    expect((await at(1)).status).toBe('in_progress');
    expect((await at(25_999)).status).toBe('in_progress');
    const done = await at(1);
    expect(done).toMatchObject({ status: 'completed', outcome: 'achieved', duration_seconds: 26 });
    expect(done.summary).toContain(objective);
  });

  it('does not move a call along when it is only polled', async () => {
    const clock = manualClock();
    const sim = await start({ now: clock.now });
    const callId = await createCall(sim);
    expect(await statusesOf(sim, callId, 5)).toEqual(Array(5).fill('queued'));
  });

  it('scales durations by timeScale', async () => {
    const clock = manualClock();
    const sim = await start({ now: clock.now, timeScale: 1 / 60 });
    const callId = await createCall(sim);
    clock.advance(50);
    expect((await poll(sim, callId)).status).toBe('dialing');
    clock.advance(34_000 / 60 - 50);
    expect((await poll(sim, callId)).status).toBe('completed');
  });

  it('takes custom durations', async () => {
    const clock = manualClock();
    const sim = await start({ now: clock.now, durations: { queuedMs: 10, dialingMs: 10, inProgressMs: 60_000 } });
    const callId = await createCall(sim, magicNumbers.failed);
    clock.advance(20);
    expect((await poll(sim, callId)).status).toBe('in_progress');
    clock.advance(60_000);
    expect((await poll(sim, callId)).status).toBe('failed');
  });

  it('enriches the lateEnrichment call 3 s after completion', async () => {
    const clock = manualClock();
    const sim = await start({ now: clock.now });
    const callId = await createCall(sim, magicNumbers.lateEnrichment);
    clock.advance(34_000);
    expect((await poll(sim, callId)).summary).toBeUndefined();
    clock.advance(2_999);
    expect((await poll(sim, callId)).summary).toBeUndefined();
    clock.advance(1);
    expect((await poll(sim, callId)).summary).toContain(objective);
  });
});

describe('magic numbers', () => {
  it('are valid numbers to libphonenumber, so client-side guard rails let them through', () => {
    for (const number of Object.values(magicNumbers)) {
      expect(parsePhoneNumber(number)?.getType(), number).toBe('PERSONAL_NUMBER');
    }
  });
});

describe('magic numbers that refuse creates', () => {
  it('refuses the first rateLimitedOnce create with 429 and Retry-After, then accepts the retry', async () => {
    const sim = await start();
    const refused = await create(sim, body(magicNumbers.rateLimitedOnce), { idempotencyKey: 'k' });
    await expectError(refused, 429, 'rate_limited');
    expect(refused.headers.get('retry-after')).toBe('60');
    expect((await create(sim, body(magicNumbers.rateLimitedOnce), { idempotencyKey: 'k' })).status).toBe(202);
    expect(sim.calls()).toHaveLength(1);
    expect(sim.stats().faultsInjected).toEqual({ rateLimitedOnce: 1 });
  });

  it('refuses every rateLimitedAlways create with 429', async () => {
    const sim = await start();
    for (let i = 0; i < 3; i++)
      await expectError(await create(sim, body(magicNumbers.rateLimitedAlways)), 429, 'rate_limited');
    expect(sim.calls()).toHaveLength(0);
  });

  it('refuses every insufficientCredits create with 402 while credits remain', async () => {
    const sim = await start();
    await expectError(await create(sim, body(magicNumbers.insufficientCredits)), 402, 'insufficient_credits');
    expect(sim.credits()).toBe(5);
  });

  it('answers the first serverErrorOnce create with a JSON 500 without creating the call', async () => {
    const sim = await start();
    await expectError(await create(sim, body(magicNumbers.serverErrorOnce)), 500, 'internal');
    expect(sim.calls()).toHaveLength(0);
    expect(sim.credits()).toBe(5);
    expect((await create(sim, body(magicNumbers.serverErrorOnce))).status).toBe(202);
    expect(sim.stats().creates).toBe(1);
  });

  it('refuses every badRequest create with 400 though the body is valid', async () => {
    const sim = await start();
    await expectError(await create(sim, body(magicNumbers.badRequest)), 400, 'invalid_input');
    await expectError(await create(sim, body(magicNumbers.badRequest)), 400, 'invalid_input');
  });

  it('creates the slowCreate call at once, answers late, and answers an idempotent retry at once', async () => {
    const sim = await start({ slowCreateMs: 2000 });
    const signal = AbortSignal.timeout(100);
    await expect(create(sim, body(magicNumbers.slowCreate), { idempotencyKey: 'slow', signal })).rejects.toThrow();
    expect(sim.calls()).toHaveLength(1);

    const startedAt = performance.now();
    const retry = await jsonOf<Created>(await create(sim, body(magicNumbers.slowCreate), { idempotencyKey: 'slow' }));
    expect(performance.now() - startedAt).toBeLessThan(1000);
    expect(retry.data.call_id).toBe(sim.calls()[0]?.callId);
    expect(sim.stats().creates).toBe(1);
  });
});

describe('magic numbers that disturb reads', () => {
  it('answers the first rateLimitedOnceOnRead GET with 429, then the call from dialing on', async () => {
    const sim = await start({ progress: 'polls' });
    const callId = await createCall(sim, magicNumbers.rateLimitedOnceOnRead);
    const refused = await read(sim, callId);
    await expectError(refused, 429, 'rate_limited');
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await statusesOf(sim, callId, 3)).toEqual(['dialing', 'in_progress', 'completed']);
  });

  it('answers the first serverErrorOnceOnRead GET with a JSON 500, then normally', async () => {
    const sim = await start({ progress: 'polls' });
    const callId = await createCall(sim, magicNumbers.serverErrorOnceOnRead);
    await expectError(await read(sim, callId), 500, 'internal');
    expect(await statusesOf(sim, callId, 1)).toEqual(['dialing']);
  });

  it('answers the first malformedJsonOnceOnRead GET with a truncated 200 body, then normally', async () => {
    const sim = await start({ progress: 'polls' });
    const callId = await createCall(sim, magicNumbers.malformedJsonOnceOnRead);
    const broken = await read(sim, callId);
    expect(broken.status).toBe(200);
    const text = await broken.text();
    expect(text).toBe('{"data": {"call_id": ');
    expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
    expect(await statusesOf(sim, callId, 1)).toEqual(['dialing']);
  });

  it('answers the first htmlErrorOnceOnRead GET with a 502 HTML page, then normally', async () => {
    const sim = await start({ progress: 'polls' });
    const callId = await createCall(sim, magicNumbers.htmlErrorOnceOnRead);
    const page = await read(sim, callId);
    expect(page.status).toBe(502);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<html>');
    expect(await statusesOf(sim, callId, 1)).toEqual(['dialing']);
  });

  it('reports status ringing for the first two unknownStatus GETs, then continues as achieved', async () => {
    const sim = await start({ progress: 'polls' });
    const callId = await createCall(sim, magicNumbers.unknownStatus);
    expect(await statusesOf(sim, callId, 5)).toEqual(['ringing', 'ringing', 'dialing', 'in_progress', 'completed']);
    expect((await poll(sim, callId)).outcome).toBe('achieved');
  });

  it('answers the first vanishes GET and 404 not_found after that', async () => {
    const sim = await start({ progress: 'polls' });
    const callId = await createCall(sim, magicNumbers.vanishes);
    expect(await statusesOf(sim, callId, 1)).toEqual(['dialing']);
    await expectError(await read(sim, callId), 404, 'not_found');
    await expectError(await read(sim, callId), 404, 'not_found');
    expect(sim.stats().faultsInjected).toEqual({ vanishes: 2 });
  });
});

describe('faults API', () => {
  it('resets the socket of a create before creating, so fetch fails and no call exists', async () => {
    const sim = await start();
    sim.faults.add({ on: 'create', kind: 'reset', count: 1 });
    await expect(create(sim, body())).rejects.toThrow(TypeError);
    expect(sim.calls()).toHaveLength(0);
    expect(sim.requests()[0]?.status).toBe('reset');
    expect(sim.stats().faultsInjected).toEqual({ reset: 1 });
    expect((await create(sim, body())).status).toBe(202);
  });

  it('with afterCreate, resets the socket after creating exactly one call, which a keyed retry gets back', async () => {
    const sim = await start();
    sim.faults.add({ on: 'create', kind: 'reset', count: 1, afterCreate: true });
    await expect(create(sim, body(), { idempotencyKey: 'ambiguous' })).rejects.toThrow(TypeError);
    expect(sim.calls()).toHaveLength(1);

    const retry = await jsonOf<Created>(await create(sim, body(), { idempotencyKey: 'ambiguous' }));
    expect(retry.data.call_id).toBe(sim.calls()[0]?.callId);
    expect(sim.stats()).toMatchObject({ creates: 1, createRequests: 2 });
    expect(sim.credits()).toBe(4);
  });

  it('with afterCreate, answers 500 after creating the call', async () => {
    const sim = await start();
    sim.faults.add({ on: 'create', kind: 'status500', count: 1, afterCreate: true });
    await expectError(await create(sim, body()), 500, 'internal');
    expect(sim.stats().creates).toBe(1);
  });

  it('answers the next count matching GETs with 503, then normally', async () => {
    const sim = await start({ progress: 'polls' });
    const callId = await createCall(sim);
    sim.faults.add({ on: 'get', kind: 'status503', count: 2 });
    await expectError(await read(sim, callId), 503, 'internal');
    await expectError(await read(sim, callId), 503, 'internal');
    expect(await statusesOf(sim, callId, 1)).toEqual(['dialing']);
  });

  it('holds a delayed response for delayMs, then answers normally', async () => {
    const sim = await start();
    sim.faults.add({ on: 'create', kind: 'delay', delayMs: 150, count: 1 });
    const startedAt = performance.now();
    const response = await create(sim, body());
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(140);
    expect(response.status).toBe(202);
  });

  it('applies an any fault to creates and GETs alike, without creating on a faulted create', async () => {
    const sim = await start({ progress: 'polls' });
    const callId = await createCall(sim);
    sim.faults.add({ on: 'any', kind: 'html', count: 1 });
    sim.faults.add({ on: 'any', kind: 'malformedJson', count: 1 });
    expect((await read(sim, callId)).status).toBe(502);
    expect(await (await create(sim, body())).text()).toBe('{"data": {"call_id": ');
    expect(sim.calls()).toHaveLength(1);
    expect(sim.stats().faultsInjected).toEqual({ html: 1, malformedJson: 1 });
  });

  it('leaves the health check and recordings alone', async () => {
    const sim = await start();
    sim.faults.add({ on: 'any', kind: 'reset', count: 1 });
    expect((await fetch(`${origin(sim)}/healthz`)).status).toBe(200);
    await expect(read(sim, 'cl_missing')).rejects.toThrow(TypeError);
  });

  it('drops pending faults on clear()', async () => {
    const sim = await start();
    sim.faults.add({ on: 'create', kind: 'status500', count: 3 });
    sim.faults.clear();
    expect((await create(sim, body())).status).toBe(202);
  });

  it('refuses a fault without a positive count or a delay without delayMs', async () => {
    const sim = await start();
    expect(() => sim.faults.add({ on: 'get', kind: 'reset', count: 0 })).toThrow(RangeError);
    expect(() => sim.faults.add({ on: 'get', kind: 'delay', count: 1 })).toThrow(RangeError);
  });

  it('counts requests, created calls and statuses in stats()', async () => {
    const sim = await start({ progress: 'polls' });
    const callId = await createCall(sim);
    await create(sim, body(), { key: null });
    await poll(sim, callId);
    await read(sim, 'cl_missing');
    expect(sim.stats()).toEqual({
      creates: 1,
      duplicateKeyCreates: 0,
      createRequests: 2,
      getRequests: 2,
      byStatus: { 200: 1, 202: 1, 401: 1, 404: 1 },
      faultsInjected: {},
    });
  });
});

describe('held creates', () => {
  it('creates the call while held and answers only on releaseCreates()', async () => {
    const sim = await start();
    sim.holdCreates(60_000);
    let answered = false;
    const pending = create(sim, body()).then((response) => {
      answered = true;
      return response;
    });
    await until(() => sim.calls().length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered).toBe(false);
    sim.releaseCreates();
    expect((await pending).status).toBe(202);
  });

  it('ends a hold by itself after ms', async () => {
    const sim = await start();
    sim.holdCreates(100);
    const startedAt = performance.now();
    expect((await create(sim, body())).status).toBe(202);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(90);
  });
});

describe('other routes', () => {
  it('serves the recording_url as a small WAV file without a key', async () => {
    const sim = await start({ progress: 'polls' });
    const callId = await createCall(sim);
    await statusesOf(sim, callId, 2);
    const { recording_url } = await poll(sim, callId);
    const response = await fetch(recording_url ?? '');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('audio/wav');
    const wav = Buffer.from(await response.arrayBuffer());
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wav.toString('ascii', 8, 12)).toBe('WAVE');
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
  });

  it('answers 404 not_found for an unknown call, recording or route', async () => {
    const sim = await start();
    await expectError(await read(sim, 'cl_unknown'), 404, 'not_found');
    await expectError(await fetch(`${origin(sim)}/recordings/cl_unknown.wav`), 404, 'not_found');
    await expectError(await fetch(`${sim.baseUrl}/calls`, { headers: { 'x-api-key': sim.apiKey } }), 404, 'not_found');
    await expectError(await fetch(`${origin(sim)}/nothing`), 404, 'not_found');
  });

  it('answers the health check without a key', async () => {
    const sim = await start();
    const response = await fetch(`${origin(sim)}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });
});

describe('the simulator itself', () => {
  it('listens on a random loopback port by default and reports its base URL', async () => {
    const sim = await start();
    expect(sim.baseUrl).toBe(`http://127.0.0.1:${sim.port}/api/v1`);
    expect(sim.apiKey).toBe('sim_test_key');
  });

  it('logs one line per request with method, path and status, never the key', async () => {
    const lines: string[] = [];
    const sim = await start({ log: (line) => lines.push(line) });
    const callId = await createCall(sim);
    await read(sim, callId, 'wrong_key');
    expect(lines).toEqual([`POST /api/v1/calls 202 ${callId}`, `GET /api/v1/calls/${callId} 401`]);
    expect(lines.join('\n')).not.toContain(sim.apiKey);
  });

  it('forgets calls, log, faults, keys and the rate window on reset(), and restores the credits', async () => {
    const sim = await start({ rateLimit: { limit: 1, windowMs: 60_000 } });
    await create(sim, body(), { idempotencyKey: 'k' });
    await create(sim, body(magicNumbers.rateLimitedOnce));
    sim.faults.add({ on: 'create', kind: 'status500', count: 1 });
    sim.reset();

    expect(sim.calls()).toHaveLength(0);
    expect(sim.requests()).toHaveLength(0);
    expect(sim.credits()).toBe(5);
    expect(sim.stats()).toMatchObject({ creates: 0, createRequests: 0 });
    expect((await create(sim, body(), { idempotencyKey: 'k' })).status).toBe(202);
    sim.reset();
    expect((await create(sim, body(magicNumbers.rateLimitedOnce))).status).toBe(429);
  });

  it('closes keep-alive connections and held responses on close()', async () => {
    const sim = await startSimulator();
    await (await fetch(`${origin(sim)}/healthz`)).text();
    sim.holdCreates(60_000);
    const held = create(sim, body());
    await until(() => sim.calls().length === 1);

    const startedAt = performance.now();
    await sim.close();
    expect(performance.now() - startedAt).toBeLessThan(1000);
    await expect(held).rejects.toThrow(TypeError);
    await expect(fetch(`${origin(sim)}/healthz`)).rejects.toThrow(TypeError);
  });

  it('leaves nothing that keeps a process alive after close()', async () => {
    // A child process exits by itself only if no server, socket or timer is left open.
    const script = `
      const { startSimulator, magicNumbers } = require('./src/simulator');
      (async () => {
        const sim = await startSimulator({ progress: 'polls' });
        const headers = { 'x-api-key': sim.apiKey };
        await (await fetch(sim.baseUrl.replace('/api/v1', '/healthz'))).text();
        sim.faults.add({ on: 'get', kind: 'delay', delayMs: 60000, count: 1 });
        sim.holdCreates(60000);
        const body = JSON.stringify({ to_phone_number: magicNumbers.slowCreate, objective: 'x' });
        fetch(sim.baseUrl + '/calls', { method: 'POST', headers, body }).catch(() => {});
        while (sim.calls().length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        fetch(sim.baseUrl + '/calls/' + sim.calls()[0].callId, { headers }).catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, 50));
        await sim.close();
        console.log('closed');
      })();
    `;
    const cwd = join(__dirname, '..');
    const output = await new Promise<string>((resolve, reject) => {
      execFile(join(cwd, 'node_modules/.bin/tsx'), ['-e', script], { cwd, timeout: 15_000 }, (error, stdout) =>
        error ? reject(error) : resolve(stdout),
      );
    });
    expect(output.trim()).toBe('closed');
  });
});

describe('the command line', () => {
  it('serves on the given port with the key from AGENTPHONE_API_KEY, logs requests without it, and stops on SIGINT', async () => {
    const cwd = join(__dirname, '..');
    const cli = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/simulator/cli.ts', '--port', '0', '--progress', 'polls', '--credits', 'unlimited'],
      { cwd, env: { ...process.env, AGENTPHONE_API_KEY: 'cli_secret_key' }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    cli.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = once(cli, 'exit');
    await until(() => output.includes('\n') || cli.exitCode !== null);
    const baseUrl = /(http:\/\/\S+\/api\/v1)/.exec(output)?.[1] ?? '';
    const headers = { 'x-api-key': 'cli_secret_key', 'Content-Type': 'application/json' };

    const created = await fetch(`${baseUrl}/calls`, { method: 'POST', headers, body: JSON.stringify(body()) });
    const { data, credits_remaining } = await jsonOf<Created>(created);
    expect(credits_remaining).toBe(Number.MAX_SAFE_INTEGER);
    const polled = await jsonOf<{ data: CallData }>(await fetch(`${baseUrl}/calls/${data.call_id}`, { headers }));
    expect(polled.data.status).toBe('dialing');
    await until(() => output.split('\n').length > 3);
    cli.kill('SIGINT');

    expect(await exited).toEqual([0, null]);
    expect(output.split('\n')).toEqual([
      `AgentPhone simulator listening at ${baseUrl}`,
      `POST /api/v1/calls 202 ${data.call_id}`,
      `GET /api/v1/calls/${data.call_id} 200`,
      '',
    ]);
    expect(output).not.toContain('cli_secret_key');
  });
});
