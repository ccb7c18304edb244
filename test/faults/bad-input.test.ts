import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailureType } from '../../src/shared/failures';
import type { CampaignProgress } from '../../src/shared/campaign-types';
import { failureOf } from '../helpers/failures';
import { fetchAllRuns, openWorkflowIds, workflowTaskFailures } from './support/audit';
import { finishSuite } from './support/finish';
import { commandLine, type Figures, faultsSize, machine } from './support/figures';
import { starterJs } from './support/processes';
import { prng, seedFromEnv } from './support/random';
import { distinctiveKey } from './support/secrets';
import { type CampaignHandle, type Stack, startStack, waitForProgress, workflowIdsStartingWith } from './support/stack';
import { rejectCampaignUpdate } from '../../src/shared/messages';

const run = promisify(execFile);
const seed = seedFromEnv();
const apiKey = distinctiveKey('bad_input', prng(seed).hex(6));

const startedAt = Date.now();
let stack: Stack;
const attempts: Record<string, number> = {};
/** Entry-point attempts that ended without a clear error (or, for valid files, without the right validation). */
const unclear: string[] = [];
const details: Record<string, unknown> = {};
let stuck = 0;
/** What a person sees for each refused file, published with the figures. */
const messages: Record<string, string> = {};

beforeAll(async () => {
  stack = await startStack({ suite: 'bad-input', apiKey });
  await stack.startWorker();
}, 180_000);

afterAll(async () => {
  await stack?.close();
});

const phone = '+14155550142';
const objective = 'Ask about opening hours';
let n = 0;
const id = (what: string) => `faults-bad-input-${what}-${seed}-${++n}`;

/** Nothing reached the API: no request of any kind, since the suite started. */
const expectNothingDialed = () => expect(stack.sim.requests()).toHaveLength(0);

function count(entry: string, clear: boolean, what: string): void {
  attempts[entry] = (attempts[entry] ?? 0) + 1;
  if (!clear) unclear.push(`${entry}: ${what}`);
}

/** Starts a workflow by name with raw arguments, as any client in any language could, and returns its failure. */
async function failureOfRawStart(type: string, args: unknown[]): Promise<ApplicationFailure> {
  const handle = await stack.client.workflow.start(type, { taskQueue: stack.taskQueue, workflowId: id(type), args });
  return failureOf(handle.result());
}

describe('bad input at every entry point: a clear error, and nobody dialed', () => {
  describe('placeCallWorkflow started raw', () => {
    const cases: [string, unknown[], FailureType, RegExp][] = [
      ['no argument', [], FailureType.InvalidInput, /must be an object with toPhoneNumber and objective/],
      ['null', [null], FailureType.InvalidInput, /must be an object/],
      ['a string', ['call +14155550142'], FailureType.InvalidInput, /must be an object.*got a string/],
      ['an array', [[{ toPhoneNumber: phone, objective }]], FailureType.InvalidInput, /got an array/],
      ['no toPhoneNumber', [{ objective }], FailureType.InvalidPhoneNumber, /toPhoneNumber is missing/],
      ['no objective', [{ toPhoneNumber: phone }], FailureType.InvalidInput, /objective is missing/],
      [
        'toPhoneNumber as a number',
        [{ toPhoneNumber: 14155550142, objective }],
        FailureType.InvalidPhoneNumber,
        /must be a string.*got a number/,
      ],
      ['a national number', [{ toPhoneNumber: '4155550142', objective }], FailureType.InvalidPhoneNumber, /E\.164/],
      [
        'objective as an object',
        [{ toPhoneNumber: phone, objective: { text: objective } }],
        FailureType.InvalidInput,
        /objective must be a string/,
      ],
      [
        'an objective of 2,001 characters',
        [{ toPhoneNumber: phone, objective: 'x'.repeat(2001) }],
        FailureType.InvalidInput,
        /2001 characters long, over the limit of 2000/,
      ],
      [
        'an objective of 1 MB',
        [{ toPhoneNumber: phone, objective: 'x'.repeat(1_000_000) }],
        FailureType.InvalidInput,
        /over the limit of 2000/,
      ],
      [
        'businessName as a number',
        [{ toPhoneNumber: phone, objective, businessName: 42 }],
        FailureType.InvalidInput,
        /businessName must be a string/,
      ],
      [
        'an ftp website',
        [{ toPhoneNumber: phone, objective, website: 'ftp://example.com' }],
        FailureType.InvalidInput,
        /website uses "ftp:"/,
      ],
      ['an emergency number', [{ toPhoneNumber: '911', objective }], FailureType.ForbiddenNumber, /emergency number/],
      [
        'a premium-rate number',
        [{ toPhoneNumber: '+19005550142', objective }],
        FailureType.ForbiddenNumber,
        /premium-rate/,
      ],
      [
        'the contract placeholder',
        [{ toPhoneNumber: '+1{PHONE_NUMBER}', objective }],
        FailureType.InvalidPhoneNumber,
        /placeholder/,
      ],
      [
        'timing as a string',
        [{ toPhoneNumber: phone, objective, timing: 'fast' }],
        FailureType.InvalidInput,
        /timing must be an object/,
      ],
      [
        'a poll interval of 1 ms',
        [{ toPhoneNumber: phone, objective, timing: { pollInterval: 1 } }],
        FailureType.InvalidInput,
        /timing\.pollInterval must be a duration/,
      ],
    ];
    it.each(cases)('%s fails at once with a typed, non-retryable failure', async (what, args, type, message) => {
      const failure = await failureOfRawStart('placeCallWorkflow', args);
      const clear = failure.type === type && failure.nonRetryable === true && message.test(failure.message);
      count('placeCallWorkflow started raw', clear, what);
      expect(failure.type).toBe(type);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toMatch(message);
      expectNothingDialed();
    });

    it('an argument over the server’s 2 MB payload limit is refused at the start, and nothing runs', async () => {
      const workflowId = id('oversized');
      const error = await stack.client.workflow
        .start('placeCallWorkflow', {
          taskQueue: stack.taskQueue,
          workflowId,
          args: [{ toPhoneNumber: phone, objective: 'x'.repeat(3_000_000) }],
        })
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        );
      // The client's error says the start failed; its cause carries the server's reason.
      const reason = `${error?.message}: ${(error?.cause as Error | undefined)?.message}`;
      count('placeCallWorkflow started raw', /size exceeds limit/i.test(reason), 'a 3 MB argument');
      details.oversizedStartError = reason.slice(0, 200);
      expect(reason).toMatch(/size exceeds limit/i);
      await expect(stack.client.workflow.getHandle(workflowId).describe()).rejects.toThrow(/not found/i);
      expectNothingDialed();
    });
  });

  describe('the starter CLI', () => {
    const cli = async (args: string[]) => {
      try {
        const { stdout, stderr } = await run(process.execPath, [starterJs, ...args], {
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            TEMPORAL_ADDRESS: stack.server.address,
            TEMPORAL_TASK_QUEUE: stack.taskQueue,
          },
          timeout: 60_000,
        });
        stack.logs.add('starter', stdout + stderr);
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        stack.logs.add('starter', e.stdout + e.stderr);
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };
    const cases: [string, string[], FailureType | undefined, RegExp][] = [
      ['an emergency number', ['--to', '911', '--objective', objective], FailureType.ForbiddenNumber, /emergency/],
      ['a national number', ['--to', '4155550142', '--objective', objective], FailureType.InvalidPhoneNumber, /E\.164/],
      [
        'the contract placeholder',
        ['--to', '+1{PHONE_NUMBER}', '--objective', objective],
        FailureType.InvalidPhoneNumber,
        /placeholder/,
      ],
      [
        'an objective of 2,001 characters',
        ['--to', phone, '--objective', 'x'.repeat(2001)],
        FailureType.InvalidInput,
        /over the limit of 2000/,
      ],
      ['an empty objective', ['--to', phone, '--objective', '  '], FailureType.InvalidInput, /objective is empty/],
      [
        'an ftp website',
        ['--to', phone, '--objective', objective, '--website', 'ftp://example.com'],
        FailureType.InvalidInput,
        /website/,
      ],
      [
        'a poll interval that is no duration',
        ['--to', phone, '--objective', objective, '--poll-interval', 'soon'],
        FailureType.InvalidInput,
        /pollInterval/,
      ],
      ['no --objective', ['--to', phone], undefined, /required option '--objective <text>' not specified/],
      [
        'an unknown option',
        ['--to', phone, '--objective', objective, '--bogus'],
        undefined,
        /unknown option '--bogus'/,
      ],
    ];
    it.each(cases)('%s exits 2 with the reason, and starts nothing', async (what, args, type, message) => {
      const before = (await fetchAllRuns(stack.client)).length;
      const json = type !== undefined;
      const { code, stdout, stderr } = await cli(['call', ...args, ...(json ? ['--json'] : [])]);
      const failure = json ? JSON.parse(stdout).failure : undefined;
      const text = json ? failure.message : stderr;
      const clear =
        code === 2 &&
        message.test(text) &&
        (!json || (failure.type === type && failure.started === false && failure.nextStep));
      count('starter CLI', Boolean(clear), what);
      expect(code).toBe(2);
      expect(text).toMatch(message);
      if (json) expect(failure).toMatchObject({ type, started: false, nextStep: expect.any(String) });
      expect((await fetchAllRuns(stack.client)).length).toBe(before);
      expectNothingDialed();
    });
  });

  describe('callCampaignWorkflow started raw', () => {
    const targets = [{ toPhoneNumber: phone, objective }];
    const cases: [string, unknown[], RegExp][] = [
      ['no argument', [], /the argument must be an object/],
      [
        'an empty object',
        [{}],
        /name must be 1–200 characters \(no control characters\); pass exactly one of targets and targetsCsvPath/,
      ],
      ['a name that is a number', [{ name: 5, targets }], /name must be 1–200 characters/],
      [
        'both targets and a CSV path',
        [{ name: 'x', targets, targetsCsvPath: '/tmp/x.csv' }],
        /exactly one of targets and targetsCsvPath/,
      ],
      ['targets that are a string', [{ name: 'x', targets: 'everyone' }], /targets must be an array/],
      [
        'maxConcurrentCalls as text',
        [{ name: 'x', targets, maxConcurrentCalls: 'lots' }],
        /maxConcurrentCalls must be a whole number from 1 to 1000/,
      ],
      ['callsPerMinute of 0', [{ name: 'x', targets, callsPerMinute: 0 }], /callsPerMinute must be a whole number/],
      [
        'a rate window that is no duration',
        [{ name: 'x', targets, timing: { rateWindow: 'a minute' } }],
        /timing\.rateWindow must be a duration/,
      ],
      [
        'a calling window of 9 to 5',
        [{ name: 'x', targets, callingWindow: { start: '9', end: '5' } }],
        /callingWindow needs start and end as HH:MM/,
      ],
      [
        '1,001 inline targets',
        [
          {
            name: 'x',
            targets: Array.from({ length: 1001 }, (_, i) => ({ toPhoneNumber: `+1415${6_000_000 + i}`, objective })),
          },
        ],
        /1001 inline targets/,
      ],
    ];
    it.each(cases)('%s fails at once with InvalidInput', async (what, args, message) => {
      const failure = await failureOfRawStart('callCampaignWorkflow', args);
      count(
        'callCampaignWorkflow started raw',
        failure.type === FailureType.InvalidInput && message.test(failure.message),
        what,
      );
      expect(failure.type).toBe(FailureType.InvalidInput);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toMatch(message);
      expectNothingDialed();
    });

    it('targets that are all refused conclude at validation, each refusal with its reason, nobody dialed', async () => {
      const handle = await stack.client.workflow.start('callCampaignWorkflow', {
        taskQueue: stack.taskQueue,
        workflowId: id('all-refused'),
        args: [
          {
            name: 'x',
            targets: [
              { toPhoneNumber: 123, objective },
              { toPhoneNumber: '911', objective },
              { toPhoneNumber: phone, objective: 'x'.repeat(5000) },
              null,
            ],
          },
        ],
      });
      const report = (await handle.result()) as CampaignProgress;
      const reasons = report.validation?.refusals.map((r) => [r.index, r.reason]);
      count(
        'callCampaignWorkflow started raw',
        report.state === 'completed' && report.validation?.refused === 4,
        'every target refused',
      );
      expect(report).toMatchObject({ state: 'completed', validation: { rows: 4, valid: 0, refused: 4 } });
      expect(reasons).toEqual([
        [0, 'InvalidPhoneNumber'],
        [1, 'ForbiddenNumber'],
        [2, 'InvalidInput'],
        [3, 'InvalidPhoneNumber'],
      ]);
      expectNothingDialed();
    });
  });

  describe('CSV files through targetsCsvPath', () => {
    const header = 'to_phone_number,objective\n';
    const rows = (count: number, first = 7_000_000) =>
      Array.from({ length: count }, (_, i) => `+1415${first + i},Ask about opening hours ${i}\n`).join('');
    const csv = (name: string, content: string | Buffer) => {
      const path = join(stack.dir, name);
      writeFileSync(path, content);
      return path;
    };
    const start = (path: string, what: string) =>
      stack.client.workflow.start('callCampaignWorkflow', {
        taskQueue: stack.taskQueue,
        workflowId: id(what),
        args: [{ name: `CSV: ${what}`, targetsCsvPath: path }],
      }) as Promise<CampaignHandle>;

    /** The file is refused with the line named in the message and in the failure's details. */
    const expectRefused = async (path: string, what: string, message: RegExp, line?: number) => {
      const handle = await start(path, what);
      const failure = await failureOf(handle.result());
      const lineOk =
        line === undefined ||
        (failure.message.includes(`line ${line}:`) && (failure.details?.[0] as { line?: number })?.line === line);
      count('CSV file', failure.type === FailureType.InvalidInput && message.test(failure.message) && lineOk, what);
      messages[what] = failure.message;
      expect(failure.type).toBe(FailureType.InvalidInput);
      expect(failure.message).toMatch(message);
      if (line !== undefined) {
        expect(failure.message).toContain(`line ${line}:`);
        expect(failure.details).toEqual([{ line }]);
      }
      expect(await workflowIdsStartingWith(stack.client, `${handle.workflowId}/`)).toEqual([]);
      expectNothingDialed();
    };

    /** The file is read and validated, then rejected by a person: validation only, nobody dialed. */
    const validateThenReject = async (path: string, what: string, timeoutMs = 60_000) => {
      const handle = await start(path, what);
      const preview = await waitForProgress(handle, (p) => p.state === 'awaiting_approval', timeoutMs);
      await handle.executeUpdate(rejectCampaignUpdate, { args: [{ by: 'faults-suite', reason: 'input test' }] });
      const report = await handle.result();
      expect(report.state).toBe('rejected');
      expect(await workflowIdsStartingWith(stack.client, `${handle.workflowId}/`)).toEqual([]);
      expectNothingDialed();
      return preview;
    };

    it('a file that is not UTF-8 names the first bad line', async () => {
      const latin1 = Buffer.concat([
        Buffer.from(header + rows(1)),
        Buffer.from('+14157000001,R\xe9server une table\n', 'latin1'),
      ]);
      await expectRefused(csv('latin1.csv', latin1), 'not UTF-8', /not UTF-8 text/, 3);
    });

    it('a header without the objective column names line 1', async () => {
      await expectRefused(
        csv('columns.csv', 'phone,business_name\n+14157000000,Acme\n'),
        'missing column',
        /lacks the column\(s\) objective/,
        1,
      );
    });

    it('an empty file names line 1 and both columns', async () => {
      await expectRefused(csv('empty.csv', ''), 'empty file', /lacks the column\(s\) to_phone_number, objective/, 1);
    });

    it('an unclosed quote is reported as invalid CSV with its line', async () => {
      await expectRefused(
        csv('quote.csv', `${header}${rows(2)}+14157000009,"Ask about\n`),
        'unclosed quote',
        /not valid CSV: the quote that opens the field in column 2 is never closed/,
        4,
      );
    });

    it('a file that does not exist is named', async () => {
      await expectRefused(join(stack.dir, 'missing.csv'), 'missing file', /cannot read .*missing\.csv: ENOENT/);
    });

    it('100,001 rows are refused as over the limit', { timeout: 3 * 60_000 }, async () => {
      await expectRefused(
        csv('100001.csv', header + rows(100_001)),
        '100,001 rows',
        /more than 100000 rows: at most 100000 per campaign/,
      );
    });

    it('a BOM is read as UTF-8, not as part of the first column', async () => {
      const preview = await validateThenReject(csv('bom.csv', `\ufeff${header}${rows(3)}`), 'BOM');
      count('CSV file', preview.validation?.valid === 3, 'BOM');
      expect(preview.validation).toMatchObject({ rows: 3, valid: 3, refused: 0 });
    });

    it('duplicate rows and bad rows are refused one by one, each with its CSV line', async () => {
      const content = `${header}+14157000000,first\n+14157000001,second\n+14157000000,first again\n911,emergency\n+14157000002,third\n`;
      const preview = await validateThenReject(csv('duplicates.csv', content), 'duplicate rows');
      const refusals = preview.validation?.refusals.map((r) => [r.line, r.reason, r.message]);
      count('CSV file', preview.validation?.refused === 2 && refusals?.[0]?.[0] === 4, 'duplicate rows');
      expect(preview.validation).toMatchObject({
        rows: 5,
        valid: 3,
        refused: 2,
        refusedByReason: { Duplicate: 1, ForbiddenNumber: 1 },
      });
      expect(refusals).toEqual([
        [4, 'Duplicate', 'same number as line 2: called once only.'],
        [5, 'ForbiddenNumber', expect.stringMatching(/emergency number/)],
      ]);
    });

    it('100,000 rows are validated before approval, and nothing is dialed', { timeout: 5 * 60_000 }, async () => {
      const startedValidation = Date.now();
      const preview = await validateThenReject(csv('100000.csv', header + rows(100_000)), '100,000 rows', 4 * 60_000);
      details.validationOf100000RowsSeconds = Math.round((Date.now() - startedValidation) / 100) / 10;
      count('CSV file', preview.validation?.valid === 100_000, '100,000 rows');
      expect(preview.validation).toMatchObject({ rows: 100_000, valid: 100_000, refused: 0 });
    });
  });

  it('leaves no workflow open and no workflow task failing', async () => {
    const runs = await fetchAllRuns(stack.client);
    const failures = workflowTaskFailures(runs);
    details.workflowTaskFailuresByCause = failures.byCause;
    details.runsAudited = runs.length;
    const open = await openWorkflowIds(stack.client);
    stuck = open.length;
    expect(failures.unexpected).toEqual([]);
    expect(open).toEqual([]);
    expect(unclear).toEqual([]);
  });

  it('never writes the API key into a history, a log, a failure message or a file', async () => {
    const final = await finishSuite(stack, figuresNow);
    expect(final.secretFoundIn).toEqual([]);
  });
});

function figuresNow(): Figures {
  const tried = Object.values(attempts).reduce((a, b) => a + b, 0);
  return {
    suite: 'bad-input',
    title: 'Bad input at every entry point: raw workflow starts, the starter CLI, CSV files',
    size: faultsSize,
    seed,
    startedAt: new Date(startedAt).toISOString(),
    durationMs: Date.now() - startedAt,
    command: commandLine('test/faults/bad-input.test.ts'),
    machine: machine(),
    faultsInjected: Object.fromEntries(Object.entries(attempts).map(([k, v]) => [`bad input: ${k}`, v])),
    kills: { worker: 0, server: 0, workerWithCreateInFlight: 0 },
    targets: { requested: tried, concluded: tried - unclear.length, duplicates: 0, lost: unclear.length, stuck },
    details: { ...details, unclear, apiRequests: stack.sim.requests().length, csvMessages: messages },
    secretFoundIn: [],
  };
}
