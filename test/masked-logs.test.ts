import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry, LogTimestamp } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { redactingLogger } from '../src/activities/redaction';
import { maskPhoneNumber as fromCalls } from '../src/calls';
import { textPrinters } from '../src/cli/print';
import { reportCsv, type ReportRow } from '../src/cli/report';
import { maskPhoneNumber, maskPhoneNumbers, omittedMark } from '../src/shared/mask';
import { createRedactor, redactedMark } from '../src/shared/redact';
import { magicNumbers, type Simulator, startSimulator } from '../src/simulator';
import { createDevServerEnv, uniqueId, uniqueTaskQueue } from './helpers/temporal';
import { freshDataDir } from './helpers/data-dir';
import { anyHourPolicy } from './helpers/policy';

// Logs never print a full phone number, an objective or a transcript: not the worker's, not the CLI's, not the
// simulator's. Numbers show as "+1415•••0100".

const apiKey = 'sk_masked_logs_SECRET_5c1e';
const number = '+14155550123';
const masked = '+1415•••0123';
const objective = 'Ask whether Dana Whitfield can collect her prescription';
const transcript = 'Agent: Hello, is this Dana? Dana: Yes, call me back on +14155550199.';

function capture() {
  const lines: LogEntry[] = [];
  const logger = redactingLogger(new DefaultLogger('TRACE', (entry) => lines.push(entry)), createRedactor([apiKey]));
  const printed = () => JSON.stringify(lines.map((l) => [l.message, l.meta]));
  return { lines, logger, printed };
}

describe('the worker logger', () => {
  it('masks every number in a message and its attributes: plain, in JSON, percent-encoded, with separators', () => {
    const { lines, logger, printed } = capture();
    logger.warn(`create failed for ${number}`, {
      body: JSON.stringify({ to_phone_number: number }),
      url: `https://api.example/calls?to=${encodeURIComponent(number)}`,
      spoken: 'call +1 (415) 555-0123 tomorrow',
      nested: [{ workflowId: `call-${number}` }],
    });
    expect(printed()).not.toMatch(/4155550123|415\D{0,2}555\D{0,2}0123/);
    expect(lines[0]?.message).toBe(`create failed for ${masked}`);
    expect(lines[0]?.meta).toEqual({
      body: JSON.stringify({ to_phone_number: masked }),
      url: `https://api.example/calls?to=${masked}`,
      spoken: `call ${masked} tomorrow`,
      nested: [{ workflowId: `call-${masked}` }],
    });
  });

  it('omits objectives, transcripts, summaries and business names under any spelling, and masks number fields', () => {
    const { lines, logger, printed } = capture();
    logger.info('call input', {
      input: { toPhoneNumber: number, objective, businessName: 'Dana Whitfield Pharmacy' },
      request: { to_phone_number: number, business_name: 'Dana Whitfield Pharmacy' },
      result: { callId: 'cl_1', summary: 'Dana will collect it', transcript, recordingUrl: 'https://r.example/1' },
      phone: '4155550123',
      quoted: `{"objective": "${objective}", "summary":"Dana will collect it"}`,
    });
    expect(printed()).not.toMatch(/Dana|4155550123|4155550199|r\.example/);
    expect(lines[0]?.meta).toEqual({
      input: { toPhoneNumber: masked, objective: omittedMark, businessName: omittedMark },
      request: { to_phone_number: masked, business_name: omittedMark },
      result: { callId: 'cl_1', summary: omittedMark, transcript: omittedMark, recordingUrl: omittedMark },
      // Not E.164: nothing of it can be shown safely.
      phone: omittedMark,
      quoted: `{"objective": "${omittedMark}", "summary":"${omittedMark}"}`,
    });
  });

  it('logs a failure (the SDK’s "Activity failed") as a copy with its message, stack and details masked', () => {
    const { lines, logger, printed } = capture();
    const failure = ApplicationFailure.create({
      type: 'ForbiddenNumber',
      message: `toPhoneNumber "${number}" is a premium-rate number`,
      nonRetryable: true,
      details: [{ toPhoneNumber: number, objective }],
      cause: new Error(`dialing ${number} refused`),
    });
    logger.warn('Activity failed', { error: failure, durationMs: 3 });
    expect(printed()).not.toContain('4155550123');
    const logged = lines[0]?.meta?.error as ApplicationFailure;
    expect(logged).toBeInstanceOf(Error);
    expect(logged.message).toBe(`toPhoneNumber "${masked}" is a premium-rate number`);
    expect(logged.stack).toContain(masked);
    expect(logged.stack).not.toContain(number);
    expect(logged).toMatchObject({ type: 'ForbiddenNumber', nonRetryable: true });
    expect(logged.details).toEqual([{ toPhoneNumber: masked, objective: omittedMark }]);
    expect((logged.cause as Error).message).toBe(`dialing ${masked} refused`);
    // The original is left as it was: it is still on its way to history.
    expect(failure.message).toContain(number);
  });

  it('still removes the key, and keeps the SDK’s log timestamp', () => {
    const { lines, logger, printed } = capture();
    logger.log('ERROR', `key ${apiKey} for ${number}`, { [LogTimestamp]: 42n, body: { message: apiKey } } as never);
    expect(printed()).not.toContain(apiKey);
    expect(lines[0]?.message).toBe(`key ${redactedMark} for ${masked}`);
    expect(lines[0]?.timestampNanos).toBe(42n);
  });
});

describe('a masked number', () => {
  it('shows the first 5 characters and the last 4 of a number, and always hides 3 digits or more', () => {
    expect(maskPhoneNumber('+14155550100')).toBe('+1415•••0100');
    expect(maskPhoneNumber('+4412345678')).toBe('+441•••5678');
    expect(maskPhoneNumber('+12345678')).toBe('+1•••5678');
    expect(maskPhoneNumber('+6834002')).toBe('•••');
    expect(maskPhoneNumbers('+6834002 and +14155550100')).toBe('••• and +1415•••0100');
    expect(maskPhoneNumbers('+1415•••0100, +1+2, 2026-01-01T00:00:00+00:00')).toBe(
      '+1415•••0100, +1+2, 2026-01-01T00:00:00+00:00',
    );
  });

  it('is still exported where the public API had it', () => {
    expect(fromCalls).toBe(maskPhoneNumber);
  });
});

describe('the simulator’s log lines', () => {
  let sim: Simulator;
  const lines: string[] = [];
  beforeAll(async () => {
    sim = await startSimulator({ apiKey, log: (line) => lines.push(line) });
  });
  afterAll(() => sim.close());

  it('name a create and a read, never their number or objective, even when the number is in the path', async () => {
    const headers = { 'x-api-key': apiKey, 'content-type': 'application/json' };
    const created = await fetch(`${sim.baseUrl}/calls`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ to_phone_number: magicNumbers.achieved, objective, business_name: 'Dana Whitfield' }),
    });
    expect(created.status).toBe(202);
    const { data } = (await created.json()) as { data: { call_id: string } };
    expect((await fetch(`${sim.baseUrl}/calls/${data.call_id}`, { headers })).status).toBe(200);
    // A client that puts the number where the call id goes, plain and percent-encoded.
    expect((await fetch(`${sim.baseUrl}/calls/${number}`, { headers })).status).toBe(404);
    expect((await fetch(`${sim.baseUrl}/calls/${encodeURIComponent(number)}`, { headers })).status).toBe(404);

    expect(lines).toEqual([
      `POST /api/v1/calls 202 ${data.call_id}`,
      `GET /api/v1/calls/${data.call_id} 200`,
      `GET /api/v1/calls/${masked} 404`,
      `GET /api/v1/calls/${masked} 404`,
    ]);
    const all = lines.join('\n');
    for (const secret of ['4155550123', magicNumbers.achieved, objective, 'Dana']) expect(all).not.toContain(secret);
    // The in-process request log is the oracle: it keeps the true number.
    expect(sim.requests()[0]?.toPhoneNumber).toBe(magicNumbers.achieved);
  });
});

describe('the report table, for people', () => {
  const row: ReportRow = {
    line: 2,
    key: 'line-2',
    toPhoneNumber: number,
    state: 'achieved',
    outcome: 'achieved',
    callId: 'cl_1',
    summary: 'Call back on +14155550199 after 5',
  };

  it('masks numbers, where the CSV for spreadsheets keeps them whole', () => {
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    try {
      textPrinters.rows([row]);
    } finally {
      log.mockRestore();
    }
    const table = lines.join('\n');
    expect(table).toContain(masked);
    expect(table).toContain('Call back on +1415•••0199 after 5');
    expect(table).not.toMatch(/4155550123|4155550199/);
    expect(reportCsv([row])).toContain(`'${number}`);
  });
});

describe('the production worker and the CLI', () => {
  const root = join(__dirname, '..');
  const workerJs = join(root, 'lib', 'worker.js');
  const starterJs = join(root, 'lib', 'starter.js');
  const dir = mkdtempSync(join(tmpdir(), 'masked-logs-'));
  const taskQueue = uniqueTaskQueue('masked-logs');
  const crisisLine = '+18002738255';
  const maskedCrisisLine = '+1800•••8255';
  let env: TestWorkflowEnvironment;
  let sim: Simulator;
  let worker: ChildProcess | undefined;
  let workerLog = '';

  const processEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    ...extra,
  });

  async function starter(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [starterJs, ...args], {
        cwd: root,
        env: processEnv(),
        timeout: 60_000,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  beforeAll(async () => {
    if (!existsSync(workerJs) || !existsSync(join(root, 'lib', 'workflow-bundle.js'))) {
      throw new Error('lib/ is missing: run `npm run build` first (npm test does).');
    }
    [env, sim] = await Promise.all([
      createDevServerEnv(),
      startSimulator({ apiKey, progress: 'polls', credits: Number.POSITIVE_INFINITY }),
    ]);
    worker = spawn(process.execPath, [workerJs], {
      env: processEnv({
        AGENTPHONE_API_KEY: apiKey,
        AGENTPHONE_BASE_URL: sim.baseUrl,
        AGENTPHONE_DATA_DIR: freshDataDir(),
        AGENTPHONE_CONTACT_POLICY: anyHourPolicy,
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout?.on('data', (d) => (workerLog += d));
    worker.stderr?.on('data', (d) => (workerLog += d));
    await until(
      () => workerLog.includes('agentphone worker'),
      30_000,
      () => workerLog,
    );
  });

  afterAll(async () => {
    worker?.kill('SIGKILL');
    await sim?.close();
    await env?.teardown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the worker logs a refused call with the number masked and without its objective', async () => {
    const handle = await env.client.workflow.start('placeCallWorkflow', {
      args: [{ toPhoneNumber: crisisLine, objective }],
      taskQueue,
      workflowId: uniqueId('masked-logs'),
    });
    await expect(handle.result()).rejects.toThrow();
    // The SDK logs the failure ("Workflow failed" or "Activity failed"), its message quoting the number.
    await until(
      () => workerLog.includes(maskedCrisisLine),
      15_000,
      () => workerLog,
    );
    expect(workerLog).not.toContain(crisisLine);
    expect(workerLog).not.toContain(objective);
  });

  it('`call` prints a refusal with the number masked, and --json (for scripts) gives it whole', async () => {
    const text = await starter('call', '--to', crisisLine, '--objective', objective);
    expect(text.code).toBe(2);
    expect(text.stderr).toContain(`ForbiddenNumber: toPhoneNumber "${maskedCrisisLine}" is a crisis line`);
    expect(text.stdout + text.stderr).not.toContain(crisisLine);
    expect(text.stdout + text.stderr).not.toContain(objective);

    const json = await starter('call', '--to', crisisLine, '--objective', objective, '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).failure.message).toContain(crisisLine);
  });

  it('`campaign start` lists refused rows with their numbers masked', async () => {
    const file = join(dir, 'refused.csv');
    writeFileSync(file, `to_phone_number,objective\n${crisisLine},${objective}\n+19005550100,${objective}\n`);
    const { code, stdout, stderr } = await starter('campaign', 'start', '--file', file);
    expect(code).toBe(2);
    expect(stderr).toContain(`line 2: ForbiddenNumber: toPhoneNumber "${maskedCrisisLine}" is a crisis line`);
    expect(stderr).toContain('line 3: ForbiddenNumber: toPhoneNumber "+1900•••0100" is a premium-rate number');
    expect(stderr).toContain('Nothing was started.');
    for (const secret of [crisisLine, '+19005550100', objective]) expect(stdout + stderr).not.toContain(secret);
  });
});

async function until(check: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting; output so far:\n${describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
