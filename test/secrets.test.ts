import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities';
import { redactingActivityInterceptor, redactingLogger } from '../src/activities/redaction';
import { AgentPhoneHttpError, AgentPhoneResponseError, createAgentPhoneClient } from '../src/agentphone';
import { ConfigError, loadWorkerConfig, parseRateLimit } from '../src/config';
import { createRedactor, redactedMark, redactDeep, stripControls } from '../src/shared/redact';
import { type HostileBehaviour, magicNumbers, type Simulator, startSimulator } from '../src/simulator';

// The API key never leaves the worker: whatever the API sends back, whatever a user types into the environment.

const apiKey = 'sk_live_SECRETS_TEST_7f3a9c';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ apiKey, progress: 'polls', credits: Number.POSITIVE_INFINITY });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const client = () => createAgentPhoneClient({ apiKey, baseUrl: sim.baseUrl, timeoutMs: 2000 });
const env = () =>
  new MockActivityEnvironment(
    { workflowExecution: { workflowId: 'wf-secrets', runId: 'run-1' } },
    { logger: new DefaultLogger('ERROR') },
  );
const request = { toPhoneNumber: magicNumbers.achieved, objective: 'Ask about the return policy' };

async function caught(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

/** Everything an error can carry into a failure, a log line or history, as one string. */
const everything = (error: unknown) =>
  JSON.stringify(error, Object.getOwnPropertyNames(error)) + String((error as Error).stack);

describe('the redactor', () => {
  const redact = createRedactor([apiKey]);

  it.each([
    ['plain', `key ${apiKey} here`],
    ['JSON-escaped', JSON.stringify({ message: `key ${apiKey}` })],
    ['percent-encoded', `https://x/?k=${encodeURIComponent(`${apiKey}/`)}`],
    ['twice', `${apiKey}${apiKey}`],
  ])('removes the key written %s', (_form, text) => {
    expect(redact(text)).not.toContain(apiKey);
    expect(redact(text)).toContain(redactedMark);
  });

  it('bounds the length in characters, not UTF-16 units', () => {
    expect([...redact('😀'.repeat(1000), 100)]).toHaveLength(100);
  });

  it('strips ANSI escapes, C1 controls and bidi overrides, and keeps newlines and tabs', () => {
    expect(stripControls('a\u001b[2Kb\u009bc\u202ed\n\te\u0007')).toBe('abcd\n\te');
  });

  it('walks objects and arrays, keys included, leaving other values alone', () => {
    expect(redactDeep({ [apiKey]: [apiKey, 1, true, null], n: 2 }, redact)).toEqual({
      [redactedMark]: [redactedMark, 1, true, null],
      n: 2,
    });
  });

  it('ignores secrets too short to search for without redacting ordinary words', () => {
    expect(createRedactor(['abc'])('abc def')).toBe('abc def');
  });
});

describe('the HTTP client against a hostile API', () => {
  const hostileErrors: [string, string, number][] = [
    ['a 400', magicNumbers.badRequest, 400],
    ['a 402', magicNumbers.insufficientCredits, 402],
    ['a 429', magicNumbers.rateLimitedAlways, 429],
  ];

  it.each(hostileErrors)(
    'never lets an error body that echoes the key into %s error',
    async (_what, number, status) => {
      sim.setHostile({ keyInErrors: true, keyInHeaders: true });
      const error = await caught(client().createCall({ ...request, toPhoneNumber: number }));
      expect(error).toBeInstanceOf(AgentPhoneHttpError);
      expect((error as AgentPhoneHttpError).status).toBe(status);
      expect(everything(error)).not.toContain(apiKey);
    },
  );

  it('ignores a Retry-After header that carries the key instead of seconds', async () => {
    sim.setHostile({ keyInHeaders: true });
    const error = await caught(client().createCall({ ...request, toPhoneNumber: magicNumbers.rateLimitedAlways }));
    expect((error as AgentPhoneHttpError).retryAfterSeconds).toBeUndefined();
  });

  it('bounds a 1 MiB error body to a short message', async () => {
    sim.setHostile({ hugeErrors: true, keyInErrors: true });
    const error = await caught(client().createCall({ ...request, toPhoneNumber: magicNumbers.badRequest }));
    expect(error.message.length).toBeLessThanOrEqual(300);
    expect(everything(error)).not.toContain(apiKey);
  });

  it('refuses a call id that holds the key instead of storing it', async () => {
    sim.setHostile({ keyInIds: true });
    const error = await caught(client().createCall(request));
    expect(error).toBeInstanceOf(AgentPhoneResponseError);
    expect(error.message).toMatch(/call id that contains the API key/);
    expect(everything(error)).not.toContain(apiKey);
  });

  it('refuses a call id with control characters instead of altering it', async () => {
    sim.setHostile({ controlIds: true });
    const error = await caught(client().createCall(request));
    expect(error.message).toMatch(/not 1–128 printable ASCII characters/);
  });

  it('accepts a call id that looks like a spreadsheet formula, exactly as sent (reports escape it)', async () => {
    sim.setHostile({ formulaIds: true });
    const created = await client().createCall(request);
    expect(created.callId).toMatch(/^[=+\-@]/);
    expect((await client().getCall(created.callId)).callId).toBe(created.callId);
  });

  it('removes the key from every field of a call it reads: summary, transcript, outcome, recording URL', async () => {
    const created = await client().createCall(request);
    sim.setHostile({ keyInCalls: true });
    let call = await client().getCall(created.callId);
    for (let i = 0; i < 6 && call.status !== 'completed'; i++) call = await client().getCall(created.callId);
    expect(call.status).toBe('completed');
    expect(JSON.stringify(call)).not.toContain(apiKey);
    expect(JSON.stringify(call)).not.toContain(encodeURIComponent(apiKey));
    expect(call.summary).toContain(redactedMark);
  });

  const everyHostility: HostileBehaviour[] = ['keyInErrors', 'keyInHeaders', 'hugeErrors', 'keyInCalls'];
  it.each(everyHostility)(
    'a create and its reads under %s carry no key into an activity result or failure',
    async (behaviour) => {
      sim.setHostile({ [behaviour]: true });
      const acts = createActivities({ client: client() });
      for (const number of [magicNumbers.achieved, magicNumbers.badRequest, magicNumbers.insufficientCredits]) {
        const outcome = await env()
          .run(acts.createCall, { ...request, toPhoneNumber: number })
          .then(
            (value) => value,
            (e: unknown) => e,
          );
        expect(everything(outcome)).not.toContain(apiKey);
        const callId = (outcome as { callId?: string }).callId;
        if (callId) {
          const read = await env().run(acts.getCall, callId);
          expect(JSON.stringify(read)).not.toContain(apiKey);
        }
      }
    },
  );
});

describe('the worker redaction step', () => {
  const redact = createRedactor([apiKey]);
  const inbound = redactingActivityInterceptor(redact)({} as never).inbound!;
  const input = { args: [], headers: {} } as never;

  it('rewrites a failure that quotes the key, keeping its type and retryability', async () => {
    const error = await caught(
      inbound.execute!(input, async () => {
        throw ApplicationFailure.create({
          type: 'InvalidInput',
          message: `bad ${apiKey}`,
          nonRetryable: true,
          details: [apiKey],
        });
      }),
    );
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).type).toBe('InvalidInput');
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect(everything(error)).not.toContain(apiKey);
  });

  it('turns a plain error that quotes the key (a parser reading /proc/self/environ) into a retryable failure without it', async () => {
    const error = await caught(
      inbound.execute!(input, async () => {
        throw new TypeError(`Invalid Record Length: AGENTPHONE_API_KEY=${apiKey}`);
      }),
    );
    expect((error as ApplicationFailure).type).toBe('TypeError');
    expect((error as ApplicationFailure).nonRetryable).toBe(false);
    expect(everything(error)).not.toContain(apiKey);
  });

  it('rethrows a failure with nothing to redact untouched', async () => {
    const original = ApplicationFailure.create({ type: 'X', message: 'fine' });
    await expect(inbound.execute!(input, () => Promise.reject(original))).rejects.toBe(original);
  });

  it('removes the key from results', async () => {
    expect(await inbound.execute!(input, async () => ({ summary: `a ${apiKey}` }))).toEqual({
      summary: `a ${redactedMark}`,
    });
  });

  it('removes the key from log lines and their metadata', () => {
    const lines: LogEntry[] = [];
    const logger = redactingLogger(new DefaultLogger('TRACE', (entry) => lines.push(entry)), redact);
    logger.warn(`create failed for ${apiKey}`, { body: { message: apiKey } });
    logger.log('ERROR', apiKey);
    expect(JSON.stringify(lines.map((l) => [l.message, l.meta]))).not.toContain(apiKey);
    expect(lines).toHaveLength(2);
  });
});

describe('the worker configuration', () => {
  const base = { AGENTPHONE_API_KEY: 'sk_live_ok_1234' };
  const problems = (env: Record<string, string>) => {
    try {
      loadWorkerConfig(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).message;
    }
    throw new Error('expected a ConfigError');
  };

  it.each([
    ['an interior newline', 'sk_live_abc\nXdef_9876'],
    ['a space', 'sk_live_abc Xdef_9876'],
    ['a non-ASCII letter', 'sk_live_abcé_Xdef_9876'],
    ['a tab', 'sk_live_abc\tXdef_9876'],
  ])('refuses a key with %s at start-up without printing it', (_what, key) => {
    const message = problems({ AGENTPHONE_API_KEY: key });
    expect(message).toMatch(/AGENTPHONE_API_KEY holds a space, a control or a non-ASCII character/);
    expect(message).not.toContain('Xdef');
  });

  it('refuses a key over 512 characters without printing it', () => {
    const message = problems({ AGENTPHONE_API_KEY: `sk_${'Q'.repeat(600)}` });
    expect(message).toMatch(/longer than 512/);
    expect(message).not.toContain('QQQQ');
  });

  it('refuses a base URL with credentials, without printing them', () => {
    const message = problems({ ...base, AGENTPHONE_BASE_URL: 'https://ops:hunter2pass@agentphone.example/api/v1' });
    expect(message).toMatch(/carries credentials/);
    expect(message).not.toContain('hunter2pass');
  });

  it.each([
    ['https://agentphone.app/api/v1', []],
    ['http://127.0.0.1:4010/api/v1', []],
    ['http://localhost:4010/api/v1', []],
    ['http://sim.localhost:4010/api/v1', []],
    ['http://agentphone.example/api/v1', [/plain http to agentphone\.example/]],
  ] as const)('warns about a plain-http API off this machine: %s', (url, expected) => {
    const { warnings } = loadWorkerConfig({ ...base, AGENTPHONE_BASE_URL: url });
    expect(warnings).toHaveLength(expected.length);
    expected.forEach((pattern, i) => expect(warnings[i]).toMatch(pattern));
  });

  it.each([
    ['10/1m', { count: 10, windowMs: 60_000 }],
    ['10/6s', { count: 10, windowMs: 6_000 }],
    [' 600 / 60000ms ', { count: 600, windowMs: 60_000 }],
    ['0/1m', undefined],
    ['10', undefined],
    ['10/forever', undefined],
    ['10/2h', undefined],
  ] as const)('reads AGENTPHONE_RATE_LIMIT %j', (value, expected) => {
    expect(parseRateLimit(value)).toEqual(expected);
  });

  it('defaults the rate ceiling to the contract’s 10 a minute and refuses a malformed one', () => {
    expect(loadWorkerConfig(base).rateLimit).toEqual({ count: 10, windowMs: 60_000 });
    expect(problems({ ...base, AGENTPHONE_RATE_LIMIT: 'lots' })).toMatch(
      /AGENTPHONE_RATE_LIMIT must be <count>\/<duration>/,
    );
  });
});
