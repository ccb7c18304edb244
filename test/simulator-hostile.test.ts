import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  controlSequence,
  hostileBehaviours,
  hugeErrorBytes,
  magicNumbers,
  startSimulator,
  type Hostility,
  type IdempotencyMode,
  type Simulator,
  type SimulatorOptions,
} from '../src/simulator';

interface CallData {
  call_id: string;
  status: string;
  outcome?: string;
  summary?: string;
  transcript?: string;
  recording_url?: string;
}

interface Created {
  data: { call_id: string; status: string };
  credits_remaining: number;
}

interface HostileError {
  error: { code: string; message: string; docs_url?: string };
  message?: string;
}

/** `+` and `/` make its percent-encoded form differ from it, and a call id carrying it need encoding in a path. */
const apiKey = 'sim_hostile+key/42';
const wrongKey = 'sim_wrong+key/401';
const objective = 'Ask about their return policy';
const body = (to: string = magicNumbers.achieved) => ({ to_phone_number: to, objective, business_name: "Luigi's" });

const started: Simulator[] = [];

async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({ apiKey, progress: 'polls', ...options });
  started.push(sim);
  return sim;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

interface CreateOptions {
  key?: string | null;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

function create(sim: Simulator, payload: unknown, { key = sim.apiKey, idempotencyKey, signal }: CreateOptions = {}) {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (key !== null) headers['x-api-key'] = key;
  if (idempotencyKey !== undefined) headers['Idempotency-Key'] = idempotencyKey;
  return fetch(`${sim.baseUrl}/calls`, { method: 'POST', headers, body: JSON.stringify(payload), signal });
}

/** Encoded, as a client must: hostile ids hold quotes, slashes and control characters. */
function read(sim: Simulator, callId: string, key: string = sim.apiKey) {
  return fetch(`${sim.baseUrl}/calls/${encodeURIComponent(callId)}`, { headers: { 'x-api-key': key } });
}

async function jsonOf<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

async function createCall(sim: Simulator, to: string = magicNumbers.achieved, idempotencyKey?: string) {
  const response = await create(sim, body(to), idempotencyKey === undefined ? {} : { idempotencyKey });
  expect(response.status).toBe(202);
  return (await jsonOf<Created>(response)).data.call_id;
}

async function poll(sim: Simulator, callId: string): Promise<CallData> {
  const response = await read(sim, callId);
  expect(response.status).toBe(200);
  return (await jsonOf<{ data: CallData }>(response)).data;
}

/** In `polls` mode the third GET ends the call. */
async function completed(sim: Simulator, callId: string): Promise<CallData> {
  await poll(sim, callId);
  await poll(sim, callId);
  const done = await poll(sim, callId);
  expect(done.status).toBe('completed');
  return done;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** The raw-body form of `key` with its first character `\uXXXX`-escaped. */
function escapedFirst(key: string): string {
  return `\\u${key.charCodeAt(0).toString(16).padStart(4, '0')}${JSON.stringify(key.slice(1)).slice(1, -1)}`;
}

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const controlCharacters = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

describe("idempotency: 'ignore'", () => {
  it.each<[string, SimulatorOptions, (sim: Simulator) => void]>([
    ['set at start', { idempotency: 'ignore' }, () => {}],
    ['set at run time', {}, (sim) => sim.setIdempotency('ignore')],
  ])('%s, makes two calls of two creates with one key and counts the duplicate', async (_, options, switchOn) => {
    const sim = await start(options);
    switchOn(sim);
    const first = await createCall(sim, magicNumbers.achieved, 'key-1');
    const second = await createCall(sim, magicNumbers.achieved, 'key-1');

    expect(second).not.toBe(first);
    expect(sim.calls().map((call) => call.idempotencyKey)).toEqual(['key-1', 'key-1']);
    expect(sim.credits()).toBe(3);
    expect(sim.stats()).toMatchObject({ creates: 2, duplicateKeyCreates: 1 });
    expect(sim.dialsByNumber()).toEqual({ [magicNumbers.achieved]: 2 });
    expect(sim.redialedNumbers()).toEqual({ [magicNumbers.achieved]: 2 });
  });

  it('creates a call for a key reused with another body instead of answering 409', async () => {
    const sim = await start({ idempotency: 'ignore' });
    await createCall(sim, magicNumbers.achieved, 'key-1');
    await createCall(sim, magicNumbers.partial, 'key-1');
    expect(sim.stats()).toMatchObject({ creates: 2, duplicateKeyCreates: 1 });
    expect(sim.dialsByNumber()).toEqual({ [magicNumbers.achieved]: 1, [magicNumbers.partial]: 1 });
    expect(sim.redialedNumbers()).toEqual({});
  });

  it('dials the slowCreate number again when a client that gave up retries with the same key', async () => {
    const sim = await start({ idempotency: 'ignore', slowCreateMs: 300 });
    const signal = AbortSignal.timeout(50);
    await expect(create(sim, body(magicNumbers.slowCreate), { idempotencyKey: 'slow', signal })).rejects.toThrow();
    await createCall(sim, magicNumbers.slowCreate, 'slow');
    expect(sim.redialedNumbers()).toEqual({ [magicNumbers.slowCreate]: 2 });
    expect(sim.stats().duplicateKeyCreates).toBe(1);
  });

  it('does not count a key whose first create was refused, since that create dialed nobody', async () => {
    const sim = await start({ idempotency: 'ignore' });
    expect((await create(sim, body(magicNumbers.rateLimitedOnce), { idempotencyKey: 'k' })).status).toBe(429);
    await createCall(sim, magicNumbers.rateLimitedOnce, 'k');
    expect(sim.stats()).toMatchObject({ creates: 1, duplicateKeyCreates: 0 });
    expect(sim.redialedNumbers()).toEqual({});
  });

  it("remembers no key while ignoring, so a switch back to 'honour' replays nothing created before", async () => {
    const sim = await start({ idempotency: 'ignore' });
    const before = await createCall(sim, magicNumbers.achieved, 'key-1');
    sim.setIdempotency('honour');
    const after = await createCall(sim, magicNumbers.achieved, 'key-1');
    expect(after).not.toBe(before);
    expect(await createCall(sim, magicNumbers.achieved, 'key-1')).toBe(after);
    expect(sim.stats()).toMatchObject({ creates: 2, duplicateKeyCreates: 1 });
  });

  it("goes back to the start option on reset(), as 'honour' by default", async () => {
    const sim = await start();
    sim.setIdempotency('ignore');
    sim.reset();
    const first = await createCall(sim, magicNumbers.achieved, 'key-1');
    expect(await createCall(sim, magicNumbers.achieved, 'key-1')).toBe(first);
    expect(sim.stats()).toMatchObject({ creates: 1, duplicateKeyCreates: 0 });
  });

  it('refuses an unknown mode at start and at run time', async () => {
    await expect(startSimulator({ idempotency: 'sometimes' as IdempotencyMode })).rejects.toThrow(RangeError);
    const sim = await start();
    expect(() => sim.setIdempotency('sometimes' as IdempotencyMode)).toThrow(RangeError);
  });
});

describe("idempotency: 'honour' (the default)", () => {
  it('answers the retry with the first call, counts no duplicate and shows one dial', async () => {
    const sim = await start();
    const first = await createCall(sim, magicNumbers.achieved, 'key-1');
    expect(await createCall(sim, magicNumbers.achieved, 'key-1')).toBe(first);
    expect(sim.stats()).toMatchObject({ creates: 1, duplicateKeyCreates: 0 });
    expect(sim.dialsByNumber()).toEqual({ [magicNumbers.achieved]: 1 });
    expect(sim.redialedNumbers()).toEqual({});
  });

  it('counts a duplicate when a key creates again after its 24 hours', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const sim = await start({ now: () => now });
    await createCall(sim, magicNumbers.achieved, 'key-1');
    now += 24 * 60 * 60 * 1000;
    await createCall(sim, magicNumbers.achieved, 'key-1');
    expect(sim.stats().duplicateKeyCreates).toBe(1);
    expect(sim.redialedNumbers()).toEqual({ [magicNumbers.achieved]: 2 });
  });

  it('counts every call per number, keyed or not', async () => {
    const sim = await start({ credits: Infinity });
    await createCall(sim, magicNumbers.achieved);
    await createCall(sim, magicNumbers.achieved);
    await createCall(sim, magicNumbers.failed, 'a');
    expect(sim.dialsByNumber()).toEqual({ [magicNumbers.achieved]: 2, [magicNumbers.failed]: 1 });
    sim.reset();
    expect(sim.dialsByNumber()).toEqual({});
  });
});

/** Each answers with an error; `sent` is the x-api-key the request carried. */
const errorCases: [
  status: number,
  code: string,
  how: string,
  sent: string,
  send: (sim: Simulator) => Promise<Response>,
][] = [
  [400, 'invalid_input', 'an invalid body', apiKey, (sim) => create(sim, { objective })],
  [401, 'unauthorized', 'a wrong key', wrongKey, (sim) => create(sim, body(), { key: wrongKey })],
  [402, 'insufficient_credits', 'no credits', apiKey, (sim) => create(sim, body(magicNumbers.insufficientCredits))],
  [404, 'not_found', 'an unknown call', apiKey, (sim) => read(sim, 'cl_unknown')],
  [
    409,
    'conflict',
    'a key reused with another body',
    apiKey,
    async (sim) => {
      await createCall(sim, magicNumbers.achieved, 'k');
      return create(sim, body(magicNumbers.partial), { idempotencyKey: 'k' });
    },
  ],
  [429, 'rate_limited', 'the rate limit', apiKey, (sim) => create(sim, body(magicNumbers.rateLimitedAlways))],
  [500, 'internal', 'a server error', apiKey, (sim) => create(sim, body(magicNumbers.serverErrorOnce))],
  [
    503,
    'internal',
    'an injected fault on a read',
    apiKey,
    (sim) => {
      sim.faults.add({ on: 'get', kind: 'status503', count: 1 });
      return read(sim, 'cl_any');
    },
  ],
];

describe('hostile.keyInErrors', () => {
  it.each(errorCases)(
    'echoes the request key in the %i body (%s): as text, unicode-escaped and percent-encoded',
    async (status, code, _, sent, send) => {
      const sim = await start({ hostile: { keyInErrors: true } });
      const response = await send(sim);
      expect(response.status).toBe(status);
      const raw = await response.text();
      const parsed = JSON.parse(raw) as HostileError;

      expect(parsed.error.code).toBe(code);
      expect(parsed.error.message).toContain(sent);
      expect(raw).toContain(`"message":"${escapedFirst(sent)}`);
      expect(parsed.message).toContain(sent);
      expect(parsed.error.docs_url).toContain(encodeURIComponent(sent));
      expect(raw).toContain(encodeURIComponent(sent));
    },
  );

  it('sends a key with quotes and backslashes JSON-escaped, and it parses back verbatim', async () => {
    const quoting = 'sim_"quoted"\\key';
    const sim = await start({ apiKey: quoting, hostile: { keyInErrors: true } });
    const response = await create(sim, { objective });
    const raw = await response.text();
    expect(raw).toContain(JSON.stringify(quoting).slice(1, -1));
    expect(raw).not.toContain(quoting);
    const parsed = JSON.parse(raw) as HostileError;
    expect(parsed.error.message).toContain(quoting);
    expect(parsed.message).toContain(quoting);
  });

  it('echoes nothing for a request without a key', async () => {
    const sim = await start({ hostile: { keyInErrors: true } });
    const parsed = await jsonOf<HostileError>(await create(sim, body(), { key: null }));
    expect(parsed).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    expect(JSON.stringify(parsed)).not.toContain(apiKey);
  });
});

describe('hostile.hugeErrors', () => {
  it.each(errorCases)(
    'sends a %i body (%s) of over 1 MiB that is still the JSON error',
    async (status, code, _, sent, send) => {
      const sim = await start({ hostile: { hugeErrors: true } });
      const response = await send(sim);
      expect(response.status).toBe(status);
      const raw = await response.text();
      expect(raw.length).toBeGreaterThan(hugeErrorBytes);
      expect((JSON.parse(raw) as HostileError).error.code).toBe(code);
      expect(raw).not.toContain(sent);
    },
  );

  it('with keyInErrors, echoes the key once more at the end, after the padding', async () => {
    const sim = await start({ hostile: { hugeErrors: true, keyInErrors: true } });
    const { error } = await jsonOf<HostileError>(await create(sim, body(), { key: wrongKey }));
    expect(error.message.length).toBeGreaterThan(hugeErrorBytes);
    expect(error.message.endsWith(wrongKey)).toBe(true);
    expect(error.message.slice(0, 200)).toContain(wrongKey);
  });
});

describe('hostile.keyInHeaders', () => {
  it.each<[string, number, string, (sim: Simulator) => Promise<Response>, Record<string, string>]>([
    ['an accepted create', 202, apiKey, (sim) => create(sim, body()), {}],
    ['a read', 200, apiKey, async (sim) => read(sim, await createCall(sim)), {}],
    ['a wrong key', 401, wrongKey, (sim) => create(sim, body(), { key: wrongKey }), { 'www-authenticate': wrongKey }],
    ['an unknown call', 404, apiKey, (sim) => read(sim, 'cl_unknown'), {}],
    [
      'the rate limit',
      429,
      apiKey,
      (sim) => create(sim, body(magicNumbers.rateLimitedAlways)),
      { 'retry-after': apiKey },
    ],
  ])('echoes the request key in the headers of %s (%i)', async (_, status, sent, send, more) => {
    const sim = await start({ hostile: { keyInHeaders: true } });
    const response = await send(sim);
    expect(response.status).toBe(status);
    expect(response.headers.get('x-request-id')).toBe(`req_${sent}`);
    for (const [name, echoed] of Object.entries(more)) expect(response.headers.get(name)).toContain(echoed);
    expect(await response.text()).not.toContain(sent);
  });

  it('sends Retry-After as the key alone, in place of the seconds', async () => {
    const sim = await start({ hostile: { keyInHeaders: true } });
    const response = await create(sim, body(magicNumbers.rateLimitedAlways));
    expect(response.headers.get('retry-after')).toBe(apiKey);
  });

  it('adds no header to a request without a key', async () => {
    const sim = await start({ hostile: { keyInHeaders: true } });
    const response = await create(sim, body(), { key: null });
    expect(response.status).toBe(401);
    expect(response.headers.get('x-request-id')).toBeNull();
    expect(response.headers.get('www-authenticate')).toBeNull();
  });
});

describe('hostile call ids', () => {
  it.each<[string, Hostility, (id: string) => void]>([
    [
      'keyInIds',
      { keyInIds: true },
      (id) => expect(id).toMatch(new RegExp(`^cl_${escapeRegExp(apiKey)}_[0-9a-f]{16}$`)),
    ],
    [
      'controlIds',
      { controlIds: true },
      (id) => {
        expect(id.slice(0, 19)).toMatch(/^cl_[0-9a-f]{16}$/);
        expect(id.slice(19)).toBe(controlSequence);
      },
    ],
    [
      'all three',
      { keyInIds: true, controlIds: true, formulaIds: true },
      (id) => {
        expect(id.startsWith(`=HYPERLINK("http://x","cl_${apiKey}_`)).toBe(true);
        expect(id).toContain(controlSequence);
      },
    ],
  ])('%s: the id answers 202, and reads and its recording work with it encoded', async (_, hostile, check) => {
    const sim = await start({ hostile });
    const callId = await createCall(sim);
    check(callId);
    expect(sim.calls()[0]?.callId).toBe(callId);
    const done = await completed(sim, callId);
    expect(done.call_id).toBe(callId);
    const recording = await fetch(done.recording_url ?? '');
    expect(recording.status).toBe(200);
    expect(recording.headers.get('content-type')).toBe('audio/wav');
  });

  it('formulaIds: gives consecutive calls ids starting with each formula, all readable', async () => {
    const sim = await start({ hostile: { formulaIds: true } });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await createCall(sim));
    expect(ids.map((id) => id.replace(/cl_[0-9a-f]{16}/, 'cl_…'))).toEqual([
      '=HYPERLINK("http://x","cl_…")',
      '+1+2_cl_…',
      '-2-3_cl_…',
      '@SUM(A1)_cl_…',
    ]);
    for (const id of ids) expect((await poll(sim, id)).call_id).toBe(id);
  });
});

describe('hostile call fields', () => {
  const fields = ['summary', 'transcript', 'outcome', 'recording_url'] as const;

  it.each<[string, Hostility, (done: Required<CallData>) => void]>([
    [
      'keyInCalls',
      { keyInCalls: true },
      (done) => {
        expect(done.summary).toContain(apiKey);
        expect(done.transcript).toContain(apiKey);
        expect(done.outcome).toBe(`achieved ${apiKey}`);
        expect(done.recording_url).toMatch(new RegExp(`\\.wav\\?key=${escapeRegExp(encodeURIComponent(apiKey))}$`));
      },
    ],
    [
      'formulaCalls',
      { formulaCalls: true },
      (done) => {
        expect(done.summary.startsWith('=HYPERLINK("http://x","y") Called')).toBe(true);
        expect(done.transcript.startsWith('+1+2 Agent:')).toBe(true);
        expect(done.outcome).toBe('-2-3 achieved');
        expect(done.recording_url.startsWith('@SUM(A1)http://')).toBe(true);
      },
    ],
    [
      'controlCalls',
      { controlCalls: true },
      (done) => {
        for (const field of fields) expect(done[field].endsWith(controlSequence), field).toBe(true);
        expect(done.summary).toContain('\u001b[2K');
      },
    ],
  ])('%s: a completed call carries it in its fields', async (_, hostile, check) => {
    const sim = await start({ hostile });
    check((await completed(sim, await createCall(sim))) as Required<CallData>);
  });

  it('keyInCalls: the recording is still served at a recording_url that carries the key', async () => {
    const sim = await start({ hostile: { keyInCalls: true } });
    const done = await completed(sim, await createCall(sim));
    expect((await fetch(done.recording_url ?? '')).status).toBe(200);
  });

  it('all three together: the value still starts with the formula, then the key, then the controls', async () => {
    const sim = await start({ hostile: { keyInCalls: true, formulaCalls: true, controlCalls: true } });
    const { outcome } = await completed(sim, await createCall(sim));
    expect(outcome).toBe(`-2-3 achieved ${apiKey}${controlSequence}`);
  });

  it('leaves failed calls without fields, as the contract has them', async () => {
    const sim = await start({ hostile: 'all' });
    const callId = await createCall(sim, magicNumbers.failed);
    await poll(sim, callId);
    await poll(sim, callId);
    expect(Object.keys(await poll(sim, callId)).sort()).toEqual(['call_id', 'created_at', 'status']);
  });
});

describe('the defaults stay friendly', () => {
  const everyBehaviourOff = Object.fromEntries(hostileBehaviours.map((name) => [name, false]));

  it.each<[string, SimulatorOptions]>([
    ['no hostile option', {}],
    ['hostile: {}', { hostile: {} }],
    ['every behaviour false', { hostile: everyBehaviourOff }],
  ])('%s: errors, headers, ids and fields carry no key, formula or control character', async (_, options) => {
    const sim = await start(options);
    const unauthorized = await create(sim, body(), { key: wrongKey });
    const limited = await create(sim, body(magicNumbers.rateLimitedAlways));
    const errors = (await unauthorized.text()) + (await limited.text());
    expect(errors).not.toContain('sim_');
    expect(errors.length).toBeLessThan(1000);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(unauthorized.headers.get('x-request-id')).toBeNull();
    expect(unauthorized.headers.get('www-authenticate')).toBeNull();

    const callId = await createCall(sim);
    expect(callId).toMatch(/^cl_[0-9a-f]{16}$/);
    const done = await completed(sim, callId);
    expect(done.outcome).toBe('achieved');
    for (const value of [done.summary, done.transcript, done.recording_url]) {
      expect(value).not.toContain(apiKey);
      expect(value).not.toMatch(controlCharacters);
      expect(value).not.toMatch(/^[=+\-@]/);
    }
  });
});

describe('switching hostility', () => {
  it("turns every behaviour on with 'all'", async () => {
    const sim = await start({ hostile: 'all' });
    const response = await create(sim, body(), { key: wrongKey });
    expect(response.headers.get('x-request-id')).toBe(`req_${wrongKey}`);
    const raw = await response.text();
    expect(raw.length).toBeGreaterThan(hugeErrorBytes);
    expect(raw).toContain(escapedFirst(wrongKey));
    const callId = await createCall(sim);
    expect(callId.startsWith(`=HYPERLINK("http://x","cl_${apiKey}_`)).toBe(true);
    expect((await completed(sim, callId)).outcome?.startsWith('-2-3 achieved')).toBe(true);
  });

  it('changes at run time with setHostile, and goes back to the start option on reset()', async () => {
    const sim = await start({ hostile: { keyInHeaders: true } });
    const headerOf = async () => (await create(sim, body(), { key: wrongKey })).headers.get('x-request-id');
    const echoes = async () => (await (await create(sim, body(), { key: wrongKey })).text()).includes(wrongKey);

    sim.setHostile({ keyInErrors: true });
    expect(await echoes()).toBe(true);
    expect(await headerOf()).toBeNull();
    sim.setHostile({});
    expect(await echoes()).toBe(false);
    sim.reset();
    expect(await headerOf()).toBe(`req_${wrongKey}`);
  });

  it('refuses an unknown behaviour at start and at run time, so a typo does not test the friendly path', async () => {
    const typo = { keyInError: true } as Hostility;
    await expect(startSimulator({ hostile: typo })).rejects.toThrow(/unknown hostile behaviour keyInError/);
    const sim = await start();
    expect(() => sim.setHostile(typo)).toThrow(RangeError);
  });
});

describe('what the simulator itself prints', () => {
  it('never logs the key or a raw control character, however hostile the ids', async () => {
    const lines: string[] = [];
    const sim = await start({ hostile: 'all', idempotency: 'ignore', log: (line) => lines.push(line) });
    const callId = await createCall(sim, magicNumbers.achieved, 'k');
    await createCall(sim, magicNumbers.achieved, 'k');
    await completed(sim, callId);
    await create(sim, body(), { key: wrongKey });

    expect(lines).toHaveLength(6);
    expect(lines[2]).toMatch(/^GET \/api\/v1\/calls\/\S+ 200$/);
    expect(lines[0]).toMatch(/^POST \/api\/v1\/calls 202 =HYPERLINK\("http:\/\/x","cl_\[key\]_[0-9a-f]{16}\\u001b\[2K/);
    for (const line of lines) {
      for (const form of [apiKey, encodeURIComponent(apiKey)]) expect(line).not.toContain(form);
      expect(line).not.toMatch(controlCharacters);
    }
    // The in-process request log keeps the true id, so tests can match it with calls().
    expect(sim.requests()[0]?.callId).toBe(callId);
  });
});

describe('the command line', () => {
  const cwd = join(__dirname, '..');

  function runCli(args: string[]) {
    const cli = spawn(process.execPath, ['--import', 'tsx', 'src/simulator/cli.ts', '--port', '0', ...args], {
      cwd,
      env: { ...process.env, AGENTPHONE_API_KEY: apiKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = { stdout: '', stderr: '' };
    cli.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
    cli.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
    return { cli, output, exited: once(cli, 'exit') };
  }

  it('takes --idempotency ignore and --hostile, and prints neither the key nor a control character', async () => {
    const { cli, output, exited } = runCli(['--idempotency', 'ignore', '--hostile', 'keyInErrors,keyInIds,controlIds']);
    await until(() => output.stdout.includes('\n') || cli.exitCode !== null);
    const baseUrl = /(http:\/\/\S+\/api\/v1)/.exec(output.stdout)?.[1] ?? '';
    const headers = { 'x-api-key': apiKey, 'Content-Type': 'application/json', 'Idempotency-Key': 'same' };
    const send = () => fetch(`${baseUrl}/calls`, { method: 'POST', headers, body: JSON.stringify(body()) });

    const ids = [];
    for (let i = 0; i < 2; i++) ids.push((await jsonOf<Created>(await send())).data.call_id);
    expect(new Set(ids).size).toBe(2);
    for (const id of ids) expect(id.startsWith(`cl_${apiKey}_`)).toBe(true);
    const refused = await fetch(`${baseUrl}/calls/x`, { headers: { 'x-api-key': wrongKey } });
    expect(await refused.text()).toContain(wrongKey);
    await until(() => output.stdout.split('\n').length > 4);
    cli.kill('SIGINT');

    expect(await exited).toEqual([0, null]);
    expect(output.stdout).not.toContain(apiKey);
    expect(output.stdout).not.toContain(encodeURIComponent(apiKey));
    expect(output.stdout).not.toMatch(controlCharacters);
  });

  it('refuses an unknown --hostile behaviour before listening', async () => {
    const { output, exited } = runCli(['--hostile', 'keyInErrors,nope']);
    const [code] = await exited;
    expect(code).not.toBe(0);
    expect(output.stderr).toContain('Unknown behaviour nope');
    expect(output.stdout).toBe('');
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
