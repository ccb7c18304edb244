import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTemporalBinary } from '../../src/dev/temporal-binaries';
import { FailureType } from '../../src/shared/failures';
import { type Fault, type Hostility, magicNumbers } from '../../src/simulator';
import { callCampaignWorkflow, placeCallWorkflow } from '../../src/workflows';
import type { CampaignCarry, CampaignInput, CampaignProgress } from '../../src/shared/campaign-types';
import type { CallResult } from '../../src/shared/call-types';
import { fetchAllRuns, openWorkflowIds, workflowTaskFailures } from './support/audit';
import { finishSuite } from './support/finish';
import { commandLine, type Figures, faultsSize, machine } from './support/figures';
import { starterJs } from './support/processes';
import { prng, seedFromEnv } from './support/random';
import { distinctiveKey } from './support/secrets';
import { type CampaignHandle, type Stack, startStack, waitForProgress, workflowIdsStartingWith } from './support/stack';
import { failureOf } from '../helpers/failures';
import {
  approveCampaignUpdate,
  campaignProgressQuery,
  pauseCampaignUpdate,
  rejectCampaignUpdate,
} from '../../src/shared/messages';

// Each hardening of "hostile input cannot skip the approval, leak the key, exhaust a worker or corrupt a report",
// proved against real processes: a dev server, the production worker (`node lib/worker.js`), the starter CLI
// (`node lib/starter.js`), the `temporal` CLI and the simulator over HTTP. The cases that must dial nobody run
// first, so that "nothing reached the API" is checked against every request since the suite started.

const run = promisify(execFile);
const seed = seedFromEnv();
const apiKey = distinctiveKey('hostile', prng(seed).hex(6));
/** The simulator's ceiling, passed to the workers as AGENTPHONE_RATE_LIMIT: room for the suite's creates. */
const ceiling = { limit: 100, windowMs: 60_000 };
/** Call timing for a fast suite: the simulator's `polls` progress ends a call on its third read. */
const fast = { pollInterval: '200ms', enrichmentInterval: '50ms', rateLimitWait: '1s' };
const objective = 'Ask about opening hours';

const startedAt = Date.now();
let stack: Stack;
const attempts: Record<string, number> = {};
/** Attempts that did not end as their hardening says. */
const unclear: string[] = [];
const details: Record<string, unknown> = {};
const rows = { forged: 0, collisions: 0, conflicts: 0, hostile: 0 };
let stuck = 0;
/** The campaign that the refused decisions were sent to; a valid approval follows with the cases that dial. */
let decisions: { handle: CampaignHandle; number: string };
/** Workflows this suite reset with the `temporal` CLI. */
const resetIds = new Set<string>();

beforeAll(async () => {
  stack = await startStack({ suite: 'hostile', apiKey, simulator: { rateLimit: ceiling } });
  await stack.startWorker();
}, 180_000);

afterAll(async () => {
  await stack?.close();
});

let n = 0;
const id = (what: string) => `faults-hostile-${what}-${seed}-${++n}`;
let numbers = 0;
/** A number nobody else in the suite dials: "dialed twice" then means one person called twice. */
const freshNumber = () => `+1415620${String(++numbers).padStart(4, '0')}`;

/** Nothing reached the API: no request of any kind, since the suite started. */
const expectNothingDialed = () => expect(stack.sim.requests()).toHaveLength(0);
const dials = (number: string) => stack.sim.dialsByNumber()[number] ?? 0;

function count(entry: string, clear: boolean, what: string): void {
  attempts[entry] = (attempts[entry] ?? 0) + 1;
  if (!clear) unclear.push(`${entry}: ${what}`);
}

/** Starts a campaign by name with a raw argument, as any client in any language could, and returns its failure. */
async function refusedCampaign(workflowId: string, input: unknown) {
  const began = Date.now();
  const handle = await stack.client.workflow.start('callCampaignWorkflow', {
    taskQueue: stack.taskQueue,
    workflowId,
    args: [input],
  });
  const failure = await failureOf(handle.result());
  return { failure, ms: Date.now() - began, handle };
}

/** No call workflow exists under the campaign's id, in either naming scheme. */
async function expectNoChildren(campaignId: string): Promise<void> {
  expect(await workflowIdsStartingWith(stack.client, `${campaignId}/`)).toEqual([]);
  expect(await workflowIdsStartingWith(stack.client, `${campaignId}-`)).toEqual([]);
}

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `node lib/starter.js …` with only what a person's shell would set, and its output kept for the key sweep. */
async function starter(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliRun> {
  const began = Date.now();
  const options = {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TEMPORAL_ADDRESS: stack.server.address,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      ...env,
    },
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  };
  try {
    const { stdout, stderr } = await run(process.execPath, [starterJs, ...args], options);
    stack.logs.add('starter', stdout + stderr);
    return { code: 0, stdout, stderr, ms: Date.now() - began };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    const stdout = e.stdout ?? '';
    const stderr = e.stderr ?? String(error);
    stack.logs.add('starter', stdout + stderr);
    return { code: typeof e.code === 'number' ? e.code : null, stdout, stderr, ms: Date.now() - began };
  }
}

/** What a terminal would act on: C0 controls but tab and newline, DEL, C1 controls, bidi overrides and isolates. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const terminalControls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const campaignInput = (input: Partial<CampaignInput>): CampaignInput => ({
  name: 'Hostile input',
  ...input,
  timing: { ...fast, ...input.timing },
});

async function startCampaign(workflowId: string, input: Partial<CampaignInput>): Promise<CampaignHandle> {
  const handle = await stack.client.workflow.start(callCampaignWorkflow, {
    taskQueue: stack.taskQueue,
    workflowId,
    args: [campaignInput(input)],
  });
  await waitForProgress(handle, (p) => p.state === 'awaiting_approval', 60_000);
  return handle;
}

async function approveAndFinish(handle: CampaignHandle): Promise<CampaignProgress> {
  await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'faults-suite' }] });
  return handle.result();
}

function historyBytes(history: temporal.api.history.v1.IHistory): number {
  return temporal.api.history.v1.History.encode(history).finish().length;
}

describe('hostile input and a hostile API: nothing skips the approval, leaks the key or corrupts a report', () => {
  describe('a start that carries forged continue-as-new state is refused', () => {
    const [first, second] = [freshNumber(), freshNumber()];
    const targets = [
      { toPhoneNumber: first, objective },
      { toPhoneNumber: second, objective },
    ];
    /** The state a campaign hands to its next run, dialing already, as a forger would write it. */
    const carry = (campaignId: string, more: Partial<CampaignCarry> = {}): CampaignCarry => ({
      campaignId,
      state: 'running',
      gate: undefined,
      pilotApproved: false,
      inspection: { sourceHash: 'inline', rows: 2, valid: 2, refused: 0, refusedByReason: {}, refusals: [] },
      inlineValid: targets.map((target, index) => ({ index, key: `item-${index}`, target })),
      cursor: 0,
      targetStates: '..',
      redial: [],
      attempts: {},
      skippedByReason: {},
      failedByType: {},
      decisions: [],
      recentCreates: [],
      runs: 1,
      indexed: false,
      childIds: 2,
      ...more,
    });
    const name = 'Forged';
    const cases: [string, (campaignId: string) => unknown][] = [
      ['a realistic carry with its own campaign id, as continue-as-new passes it', (c) => ({ name, carry: carry(c) })],
      ['the same carry beside inline targets', (c) => ({ name, targets, carry: carry(c) })],
      [
        'a carry that claims an approval',
        (c) => ({
          name,
          carry: carry(c, { decisions: [{ action: 'approve', by: 'dana', at: new Date().toISOString() }] }),
        }),
      ],
      ['a carry of another campaign', (c) => ({ name, targets, carry: carry(`${c}-other`) })],
      [
        'a carry for a CSV campaign, past its approval',
        (c) => ({
          name,
          targetsCsvPath: '/tmp/targets.csv',
          carry: carry(c, {
            inlineValid: undefined,
            inspection: { ...carry(c).inspection, sourceHash: 'ab'.repeat(32) },
          }),
        }),
      ],
      ['carry: null', () => ({ name, targets, carry: null })],
      ["carry: 'x'", () => ({ name, targets, carry: 'x' })],
      ['carry: {}', () => ({ name, targets, carry: {} })],
      ['carry: []', () => ({ name, targets, carry: [] })],
      ['carry: false', () => ({ name, targets, carry: false })],
    ];
    it.each(cases)('%s: InvalidInput on field carry, no call workflow, nobody dialed', async (what, input) => {
      const workflowId = id('forged');
      const { failure, handle } = await refusedCampaign(workflowId, input(workflowId));
      const events = (await handle.fetchHistory()).events ?? [];
      const clear =
        failure.type === FailureType.InvalidInput &&
        (failure.details?.[0] as { field?: string } | undefined)?.field === 'carry';
      count('forged carry', clear, what);
      if (clear) rows.forged++;
      expect(failure.type).toBe(FailureType.InvalidInput);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toMatch(/`carry` is set by the campaign itself when it continues as new/);
      expect(failure.details).toEqual([{ field: 'carry' }]);
      // Refused before anything ran: not even the validation activity was scheduled.
      expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]);
      await expectNoChildren(workflowId);
      expectNothingDialed();
    });
  });

  describe('settings the workflow checks itself, however it is started', () => {
    const targets = [{ toPhoneNumber: freshNumber(), objective }];
    const window = { start: '08:00', end: '21:00' };
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [
        'a default timezone no worker knows',
        { callingWindow: { ...window, defaultTimezone: 'Nowhere/X' } },
        /callingWindow\.defaultTimezone Nowhere\/X is not an IANA zone this worker knows/,
      ],
      [
        'a default timezone with shell characters',
        { callingWindow: { ...window, defaultTimezone: 'UTC; rm -rf /' } },
        /callingWindow\.defaultTimezone must be an IANA zone/,
      ],
      [
        'a calling window of 25:00 to 99:99',
        { callingWindow: { start: '25:00', end: '99:99' } },
        /callingWindow needs start and end as .*two different 24-hour times/,
      ],
      [
        'a calling window with equal bounds',
        { callingWindow: { start: '09:00', end: '09:00' } },
        /callingWindow needs start and end as .*two different 24-hour times/,
      ],
      [
        'callsPerMinute one above the workers’ ceiling',
        { callsPerMinute: ceiling.limit + 1 },
        new RegExp(
          `callsPerMinute ${ceiling.limit + 1} per 60000 ms is above the API key's ceiling of ${ceiling.limit} per 60000 ms`,
        ),
      ],
      [
        'the ceiling’s count in half its window',
        { callsPerMinute: ceiling.limit, timing: { rateWindow: '30s' } },
        /callsPerMinute 100 per 30000 ms is above the API key's ceiling/,
      ],
      ['share 0', { share: 0 }, /share must be a number above 0 and at most 100/],
      ['share 1000', { share: 1000 }, /share must be a number above 0 and at most 100/],
      ['share as text', { share: '1' }, /share must be a number above 0 and at most 100/],
      ['an approval timeout of 90d', { approval: { timeout: '90d' } }, /approval\.timeout must be a duration from 1s/],
      ['an approval timeout of 500ms', { approval: { timeout: '500ms' } }, /approval\.timeout must be a duration/],
      [
        'a zero-width approver',
        { approval: { approvers: ['\u200b'] } },
        /approval\.approvers must be a list of 1–100 names, each 1–100 visible characters/,
      ],
      ['an empty list of approvers', { approval: { approvers: [] } }, /approval\.approvers must be a list/],
      [
        '101 approvers',
        { approval: { approvers: Array.from({ length: 101 }, (_, i) => `approver ${i}`) } },
        /approval\.approvers must be a list/,
      ],
      [
        'a name with control characters',
        { name: 'Spring\u001b[2J\u0007 list' },
        /name must be 1–200 characters \(no control characters\)/,
      ],
      ['a name with a right-to-left override', { name: 'invoice\u202etxt.exe' }, /\(no control characters\)/],
      ['a name of 201 characters', { name: 'n'.repeat(201) }, /name must be 1–200 characters/],
      [
        'a targetsCsvPath of 5,000 characters',
        { targets: undefined, targetsCsvPath: `/tmp/${'a'.repeat(4995)}` },
        /targetsCsvPath must be a file path of at most 4,096 characters/,
      ],
      [
        'a rate margin longer than the rate window',
        { timing: { rateWindow: '1s', rateMargin: '2s' } },
        /timing\.rateMargin must be a duration no longer than the rate window/,
      ],
      ['a rate window of 1 ms', { timing: { rateWindow: '1ms' } }, /timing\.rateWindow must be a duration from 100ms/],
      ['a history limit of 10 events', { historyLimit: 10 }, /historyLimit must be a whole number from 200 to 40000/],
      ['1,001 calls at once', { maxConcurrentCalls: 1001 }, /maxConcurrentCalls must be a whole number from 1 to 1000/],
    ];
    it.each(cases)('%s: InvalidInput at once, nobody dialed', async (what, settings, message) => {
      const workflowId = id('settings');
      const { failure } = await refusedCampaign(workflowId, { name: 'Hostile settings', targets, ...settings });
      count('settings', failure.type === FailureType.InvalidInput && message.test(failure.message), what);
      expect(failure.type).toBe(FailureType.InvalidInput);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toMatch(/^The (campaign cannot start|targets cannot be used): /);
      expect(failure.message).toMatch(message);
      await expectNoChildren(workflowId);
      expectNothingDialed();
    });
  });

  describe('decisions with hostile names and texts are refused by the update validators', () => {
    beforeAll(async () => {
      const number = freshNumber();
      const handle = await startCampaign(id('decisions'), {
        targets: [{ toPhoneNumber: number, objective }],
        approval: { approvers: ['dana'] },
      });
      decisions = { handle, number };
    });

    type Update = UpdateDefinition<CampaignProgress, [never]>;
    const approve = approveCampaignUpdate as unknown as Update;
    const reject = rejectCampaignUpdate as unknown as Update;
    const pause = pauseCampaignUpdate as unknown as Update;
    const invisible = /holds a control, format or zero-width character/;
    const cases: [string, Update, Record<string, unknown>, RegExp][] = [
      ['an approval by a zero-width space', approve, { by: '\u200b' }, invisible],
      ['an approval by a name that erases the line', approve, { by: 'mallory\r\u001b[2Kdana' }, invisible],
      ['an approval by a name with a right-to-left override', approve, { by: 'dana\u202e' }, invisible],
      ['an approval by 101 characters', approve, { by: 'd'.repeat(101) }, /must be at most 100 characters/],
      ['an approval by 1.5 MB', approve, { by: 'd'.repeat(1_500_000) }, /must be at most 100 characters/],
      ['an approval by a number', approve, { by: 42 }, /`by` is required/],
      [
        'an approval by someone not an approver',
        approve,
        { by: 'mallory' },
        /mallory is not an approver of this campaign \(dana\)/,
      ],
      ['a comment that is an object', approve, { by: 'dana', comment: { text: 'ok' } }, /comment must be text/],
      [
        'a comment of 1,001 characters',
        approve,
        { by: 'dana', comment: 'c'.repeat(1001) },
        /comment must be at most 1000 characters/,
      ],
      [
        'a comment that clears the screen',
        approve,
        { by: 'dana', comment: 'ok\u001b[2J\u0007' },
        /comment holds a control or format character/,
      ],
      [
        'a rejection reason of 0.5 MB',
        reject,
        { by: 'dana', reason: 'r'.repeat(500_000) },
        /reason must be at most 1000 characters/,
      ],
      ['a rejection without a reason', reject, { by: 'dana', reason: '  ' }, /a rejection needs a reason/],
      ['a pause before approval', pause, { by: 'dana' }, /cannot pause a campaign that is awaiting_approval/],
    ];
    it.each(cases)('%s is refused, and nothing is recorded', async (what, update, input, message) => {
      const error = await decisions.handle.executeUpdate(update, { args: [input as never] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      const cause = (error as WorkflowUpdateFailedError | undefined)?.cause;
      count('decision', error instanceof WorkflowUpdateFailedError && message.test(String(cause?.message)), what);
      expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(String(cause?.message)).toMatch(message);
      expectNothingDialed();
    });

    it('`campaign approve --by` a name that erases the line exits 2, printing no control character', async () => {
      const by = 'mallory\r\u001b[2Kdana';
      const { code, stderr } = await starter(['campaign', 'approve', decisions.handle.workflowId, '--by', by]);
      count('decision', code === 2 && invisible.test(stderr) && !terminalControls.test(stderr), 'CLI approve');
      expect(code).toBe(2);
      expect(stderr).toMatch(/^Refused: .*holds a control, format or zero-width character/);
      expect(stderr).not.toMatch(terminalControls);
      expectNothingDialed();
    });

    it('the campaign recorded no decision, and its history holds none of the refused payloads', async () => {
      const progress = await decisions.handle.query(campaignProgressQuery);
      const history = await decisions.handle.fetchHistory();
      const bytes = historyBytes(history);
      details.decisionsCampaignHistoryBytes = bytes;
      const updates = (history.events ?? []).filter(
        (e) => e.workflowExecutionUpdateAcceptedEventAttributes || e.workflowExecutionUpdateAdmittedEventAttributes,
      );
      count('decision', progress.decisions.length === 0 && bytes < 200_000, 'history after refused decisions');
      expect(progress).toMatchObject({ state: 'awaiting_approval', decisions: [] });
      expect(updates).toEqual([]);
      expect(bytes).toBeLessThan(200_000);
      expectNothingDialed();
    });
  });

  describe('targets files that are not regular files are refused before a byte is read', () => {
    const paths = {
      fifo: '',
      folder: '',
      socket: '',
      sparse: '',
      toEnviron: '',
      toZero: '',
    };
    let socketServer: Server | undefined;
    // Not under stack.dir: the key sweep reads every file there, and a FIFO or a link to /dev/zero never ends.
    let dir = '';

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'faults-hostile-files-'));
      Object.assign(paths, {
        fifo: join(dir, 'targets.fifo'),
        folder: join(dir, 'folder.csv'),
        socket: join(dir, 'targets.sock'),
        sparse: join(dir, 'sparse.csv'),
        toEnviron: join(dir, 'environ.csv'),
        toZero: join(dir, 'zero.csv'),
      });
      execFileSync('mkfifo', [paths.fifo]);
      mkdirSync(paths.folder);
      // Sparse: 50 MB + 1 byte by its size, nothing on disk.
      writeFileSync(paths.sparse, '');
      truncateSync(paths.sparse, 50 * 1024 * 1024 + 1);
      symlinkSync('/proc/self/environ', paths.toEnviron);
      symlinkSync('/dev/zero', paths.toZero);
      const server = createServer();
      socketServer = server;
      await new Promise<void>((resolve) => server.listen(paths.socket, resolve));
    });

    afterAll(async () => {
      await new Promise((resolve) => (socketServer ? socketServer.close(resolve) : resolve(undefined)));
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    // The worker's own /proc/self/environ holds AGENTPHONE_API_KEY: reading it would put the key in a refusal.
    const cases: [string, () => string, RegExp][] = [
      ['/dev/zero', () => '/dev/zero', /\/dev\/zero is under \/dev: pass a regular CSV file/],
      ['/proc/self/environ', () => '/proc/self/environ', /\/proc\/self\/environ is under \/proc/],
      ['/proc/self/environ by a detour', () => '/tmp/../proc/self/environ', /is under \/proc/],
      [
        'a link to /proc/self/environ',
        () => paths.toEnviron,
        /\(it leads to \/proc\/(self|\d+)\/environ\) is under \/proc/,
      ],
      ['a link to /dev/zero', () => paths.toZero, /\(it leads to \/dev\/zero\) is under \/dev/],
      ['a FIFO', () => paths.fifo, /is not a regular file \(a FIFO\)/],
      ['a directory', () => paths.folder, /is not a regular file \(a directory\)/],
      ['a socket', () => paths.socket, /is not a regular file \(a socket\)/],
      ['a sparse file of 50 MB and 1 byte', () => paths.sparse, /a targets file may have at most 50 MB/],
    ];
    it.each(cases)(
      '%s as targetsCsvPath: InvalidInput within seconds, without the key',
      async (what, path, message) => {
        const workflowId = id('file');
        const { failure, ms } = await refusedCampaign(workflowId, { name: `File: ${what}`, targetsCsvPath: path() });
        details[`fileRefusalMs: ${what}`] = ms;
        const clear =
          failure.type === FailureType.InvalidInput &&
          message.test(failure.message) &&
          ms < 5000 &&
          !failure.message.includes(apiKey);
        count('targets file', clear, what);
        expect(failure.type).toBe(FailureType.InvalidInput);
        expect(failure.message).toMatch(/^The targets cannot be used: /);
        expect(failure.message).toMatch(message);
        expect(failure.message).not.toContain(apiKey);
        expect(ms).toBeLessThan(5000);
        await expectNoChildren(workflowId);
        expectNothingDialed();
      },
    );

    const cliCases: [string, () => string, RegExp][] = [
      ['/dev/zero', () => '/dev/zero', /under \/dev/],
      ['a FIFO', () => paths.fifo, /is not a regular file \(a FIFO\)/],
      ['/proc/self/environ, with the key in the shell', () => '/proc/self/environ', /under \/proc/],
    ];
    /**
     * 2 s, or twice what the CLI takes here to refuse a missing file (the same path up to the open) when the shared
     * machine is slower than that: reading 50 MB of /dev/zero or waiting on a FIFO's writer takes far longer.
     */
    let limitMs = 2000;
    beforeAll(async () => {
      const { code, ms } = await starter(['campaign', 'start', '--file', join(dir, 'missing.csv')]);
      expect(code).toBe(2);
      details.cliMissingFileRefusalMs = ms;
      limitMs = Math.max(2000, 2 * ms);
    });

    it.each(cliCases)('`campaign start --file` %s exits 2 within 2 s', async (what, path, message) => {
      const before = await stack.client.workflow.count();
      // The person's shell may hold the key: the CLI must not read its own environment back into a message.
      const { code, stdout, stderr, ms } = await starter(['campaign', 'start', '--file', path()], {
        AGENTPHONE_API_KEY: apiKey,
      });
      details[`cliFileRefusalMs: ${what}`] = ms;
      count('targets file', code === 2 && ms < limitMs && message.test(stderr), `CLI ${what}`);
      expect(code).toBe(2);
      expect(stderr).toMatch(message);
      expect(stderr).toMatch(/Nothing was started/);
      expect(stdout + stderr).not.toContain(apiKey);
      expect(ms).toBeLessThan(limitMs);
      expect((await stack.client.workflow.count()).count).toBe(before.count);
      expectNothingDialed();
    });
  });

  describe('the starter CLI exits 2 on bad input, and says why in a sentence', () => {
    const number = freshNumber();
    const cases: [string, string[], FailureType, RegExp][] = [
      ['a crisis line', ['--to', '+18002738255'], FailureType.ForbiddenNumber, /988 Suicide & Crisis Lifeline/],
      [
        'cloud metadata as the website',
        ['--to', number, '--website', 'http://169.254.169.254/'],
        FailureType.InvalidInput,
        /website/,
      ],
      [
        'localhost as the website',
        ['--to', number, '--website', 'http://localhost:7233/'],
        FailureType.InvalidInput,
        /website/,
      ],
    ];
    it.each(cases)(
      '`call` to %s exits 2 with its failure type, starting nothing',
      async (what, args, type, message) => {
        const before = await stack.client.workflow.count();
        const { code, stdout } = await starter(['call', ...args, '--objective', objective, '--json']);
        const failure = JSON.parse(stdout).failure as { type: string; message: string; started: boolean };
        count('starter CLI', code === 2 && failure.type === type, what);
        expect(code).toBe(2);
        expect(failure).toMatchObject({ type, started: false });
        expect(failure.message).toMatch(message);
        expect((await stack.client.workflow.count()).count).toBe(before.count);
        expectNothingDialed();
      },
    );

    const idCases: [string, string][] = [
      ['an empty --id', ''],
      ['an --id with an escape sequence', 'call\u001b[2J1'],
      ['an --id of 1,001 characters', 'i'.repeat(1001)],
    ];
    it.each(idCases)('%s exits 2 before connecting', async (what, workflowId) => {
      const { code, stderr } = await starter(['call', '--to', number, '--objective', objective, '--id', workflowId]);
      count('starter CLI', code === 2 && /1–1000 characters, without control characters/.test(stderr), what);
      expect(code).toBe(2);
      expect(stderr).toMatch(/option '--id <workflowId>' argument .* is invalid\. 1–1000 characters/s);
      expectNothingDialed();
    });

    const unreachable = '127.0.0.1:1';
    const addressCases: [string, string[]][] = [
      ['call', ['call', '--to', number, '--objective', objective]],
      ['campaign status', ['campaign', 'status', 'campaign-nobody-started']],
    ];
    it.concurrent.each(addressCases)(
      '`%s` against an unreachable Temporal exits 2 with a sentence, no stack trace',
      async (what, args) => {
        const { code, stdout, stderr } = await starter(args, { TEMPORAL_ADDRESS: unreachable });
        const output = stdout + stderr;
        const trace = output.split('\n').filter((line) => line.startsWith('    at '));
        count('starter CLI', code === 2 && trace.length === 0, `unreachable Temporal: ${what}`);
        expect(trace).toEqual([]);
        expect(stderr).toMatch(new RegExp(`Cannot reach Temporal at ${unreachable}.*Check TEMPORAL_ADDRESS`));
        expect(code).toBe(2);
      },
    );
  });

  // ---- from here on, numbers are dialed: each case counts the dials of its own numbers -----------------------------

  describe('after the refused decisions, a valid one', () => {
    it('an approval by the approver dials the target once', async () => {
      const { handle, number } = decisions;
      const progress = await handle.executeUpdate(approveCampaignUpdate, {
        args: [{ by: 'dana', comment: 'Checked by hand.' }],
      });
      const report = await handle.result();
      count('decision', report.counts.achieved === 1 && dials(number) === 1, 'valid approval');
      expect(progress.decisions).toMatchObject([{ action: 'approve', by: 'dana', comment: 'Checked by hand.' }]);
      expect(report).toMatchObject({ state: 'completed', counts: { achieved: 1 } });
      expect(dials(number)).toBe(1);
    });
  });

  describe('call ids that cannot collide across campaigns', () => {
    const csvFile = (name: string, content: string) => {
      const path = join(stack.dir, name);
      writeFileSync(path, content);
      return path;
    };
    interface Side {
      key: string;
      number: string;
      state: string;
      targets: (name: string) => Partial<CampaignInput>;
    }
    const header = 'to_phone_number,objective';
    const cases: [string, Side, Side][] = [
      [
        'a CSV row with id "line-2", and line 2 of a campaign whose id adds "-t"',
        {
          key: 't-line-2',
          number: magicNumbers.notAchieved,
          state: 'not_achieved',
          targets: (name) => ({
            targetsCsvPath: csvFile(`${name}.csv`, `${header},id\n${magicNumbers.notAchieved},${objective},line-2\n`),
          }),
        },
        {
          key: 'line-2',
          number: magicNumbers.partial,
          state: 'partial',
          targets: (name) => ({
            targetsCsvPath: csvFile(`${name}.csv`, `${header}\n${magicNumbers.partial},${objective}\n`),
          }),
        },
      ],
      [
        'an inline target with id "item-0", and the first inline target of a campaign whose id adds "-t"',
        {
          key: 't-item-0',
          number: magicNumbers.failed,
          state: 'failed',
          targets: () => ({ targets: [{ id: 'item-0', toPhoneNumber: magicNumbers.failed, objective }] }),
        },
        {
          key: 'item-0',
          number: magicNumbers.canceled,
          state: 'canceled',
          targets: () => ({ targets: [{ toPhoneNumber: magicNumbers.canceled, objective }] }),
        },
      ],
    ];
    it.each(cases)('%s: each dials its own number and reports its own outcome', async (what, a, b) => {
      const base = id('col');
      const sides = [
        { ...a, campaignId: base },
        { ...b, campaignId: `${base}-t` },
      ];
      // Under the old scheme (`<campaignId>-<key>`) both targets were one workflow id.
      expect(`${sides[0]!.campaignId}-${a.key}`).toBe(`${sides[1]!.campaignId}-${b.key}`);
      const handles = await Promise.all(
        sides.map((s) => startCampaign(s.campaignId, { name: `Collision ${s.key}`, ...s.targets(s.campaignId) })),
      );
      const reports = await Promise.all(handles.map(approveAndFinish));
      const printed = await Promise.all(
        sides.map(async (s) => {
          const { code, stdout } = await starter(['campaign', 'report', s.campaignId, '--json']);
          expect(code).toBe(0);
          return JSON.parse(stdout) as { targets: { state: string; callId?: string; childWorkflowId?: string }[] };
        }),
      );
      const calls = stack.sim.calls();
      const kept = sides.every(
        (s, i) =>
          dials(s.number) === 1 &&
          printed[i]!.targets[0]?.state === s.state &&
          printed[i]!.targets[0]?.callId === calls.find((c) => c.toPhoneNumber === s.number)?.callId,
      );
      count('id collision', kept, what);
      if (kept) rows.collisions++;
      for (const [i, s] of sides.entries()) {
        expect(reports[i]).toMatchObject({ state: 'completed', childIds: 2 });
        expect(dials(s.number)).toBe(1);
        const child = await stack.client.workflow.getHandle(`${s.campaignId}/${s.key}`).describe();
        expect(child.parentExecution?.workflowId).toBe(s.campaignId);
        expect(printed[i]!.targets).toMatchObject([
          {
            state: s.state,
            childWorkflowId: `${s.campaignId}/${s.key}`,
            callId: calls.find((c) => c.toPhoneNumber === s.number)!.callId,
          },
        ]);
      }
      expect(printed[0]!.targets[0]!.callId).not.toBe(printed[1]!.targets[0]!.callId);
      expect((await stack.client.workflow.count(`WorkflowId = '${sides[0]!.campaignId}-${a.key}'`)).count).toBe(0);
    });

    it('a call id held by a workflow the campaign did not start is reported as id_conflict, never adopted', async () => {
      const campaignId = id('conflict');
      const [foreignNumber, lineTwo, lineThree, lineFour, lineFive] = Array.from({ length: 5 }, freshNumber);
      const path = csvFile(
        `${campaignId}.csv`,
        `${header}\n${[lineTwo, lineThree, lineFour, lineFive].map((p) => `${p},${objective}`).join('\n')}\n`,
      );
      const started = await starter([
        'campaign',
        'start',
        '--file',
        path,
        '--id',
        campaignId,
        '--poll-interval',
        '200ms',
      ]);
      expect(started.code).toBe(0);
      const handle: CampaignHandle = stack.client.workflow.getHandle(campaignId);
      await waitForProgress(handle, (p) => p.state === 'awaiting_approval', 60_000);

      // Three ids of this campaign's calls, taken before approval by workflows it did not start: a call that
      // completed (dialing someone else), a call that failed, and a workflow of another type that is still open.
      const foreignDone = await stack.client.workflow.start(placeCallWorkflow, {
        taskQueue: stack.taskQueue,
        workflowId: `${campaignId}/line-2`,
        args: [{ toPhoneNumber: foreignNumber!, objective: 'Not this campaign’s call', timing: fast }],
      });
      const foreignFailed = await stack.client.workflow.start('placeCallWorkflow', {
        taskQueue: stack.taskQueue,
        workflowId: `${campaignId}/line-3`,
        args: [{ toPhoneNumber: '911', objective: 'Not this campaign’s call' }],
      });
      const foreignOpen = await startCampaign(`${campaignId}/line-4`, {
        name: 'Squatter',
        targets: [{ toPhoneNumber: freshNumber(), objective }],
      });
      const foreignResult = await foreignDone.result();
      expect((await failureOf(foreignFailed.result())).type).toBe(FailureType.ForbiddenNumber);

      const approved = await starter(['campaign', 'approve', campaignId, '--by', 'dana']);
      expect(approved.code).toBe(0);
      const report = await handle.result();
      const { stdout } = await starter(['campaign', 'report', campaignId, '--json']);
      const printed = JSON.parse(stdout) as { targets: { key: string; state: string; outcome?: string }[] };
      const conflicts = report.skippedByReason.id_conflict ?? 0;
      count('id conflict', conflicts === 3 && dials(lineFive!) === 1, 'three foreign workflows');
      rows.conflicts += conflicts;
      details.idConflictReport = { counts: report.counts, skippedByReason: report.skippedByReason };

      expect(report).toMatchObject({
        state: 'completed',
        skippedByReason: { id_conflict: 3 },
        failedByType: {},
        counts: { achieved: 1, skipped: 3, failed: 0 },
      });
      expect(printed.targets.map((t) => [t.key, t.state, t.outcome])).toEqual([
        ['line-2', 'skipped', undefined],
        ['line-3', 'skipped', undefined],
        ['line-4', 'skipped', undefined],
        ['line-5', 'achieved', 'achieved'],
      ]);
      // The foreign call kept its own outcome and was dialed once; the targets under taken ids, never.
      expect(foreignResult.outcome).toBe('achieved');
      expect([dials(foreignNumber!), dials(lineTwo!), dials(lineThree!), dials(lineFour!), dials(lineFive!)]).toEqual([
        1, 0, 0, 0, 1,
      ]);
      await foreignOpen.executeUpdate(rejectCampaignUpdate, { args: [{ by: 'faults-suite', reason: 'squatter' }] });
      expect((await foreignOpen.result()).state).toBe('rejected');
    });
  });

  describe('`temporal workflow reset` of a completed call', () => {
    it('each new run ends with the same call id, and the API saw one create', async () => {
      const workflowId = id('reset');
      resetIds.add(workflowId);
      const number = freshNumber();
      const placed = await starter([
        'call',
        ...['--to', number, '--objective', objective, '--id', workflowId, '--poll-interval', '200ms', '--json'],
      ]);
      expect(placed.code).toBe(0);
      const first = JSON.parse(placed.stdout) as CallResult & { workflowId: string };
      const handle = stack.client.workflow.getHandle<typeof placeCallWorkflow>(workflowId);
      const runIds = [(await handle.describe()).runId];
      const resets: { runId: string; resetBasesInHistory: string[]; answeredBy?: string }[] = [];
      for (let reset = 1; reset <= 2; reset++) {
        const { stdout, stderr } = await run(findTemporalBinary('cli'), [
          ...['workflow', 'reset', '--workflow-id', workflowId, '--type', 'FirstWorkflowTask'],
          ...['--reason', `faults suite: reset ${reset}`, '--address', stack.server.address],
        ]);
        stack.logs.add('temporal-cli', stdout + stderr);
        const latest = await handle.describe();
        expect(latest.runId).not.toBe(runIds.at(-1));
        const result = await stack.client.workflow
          .getHandle<typeof placeCallWorkflow>(workflowId, latest.runId)
          .result();
        const creates = stack.sim.requests().filter((r) => r.method === 'POST' && r.toPhoneNumber === number).length;
        count('reset', result.callId === first.callId && creates === 1, `reset ${reset}`);
        // The run that answers is an earlier one (after a reset of a reset, whichever of them the lookup reads
        // first: each holds the same call), never the new run itself.
        const events = (await handle.fetchHistory()).events ?? [];
        const bases = events.flatMap((e) => e.workflowTaskFailedEventAttributes?.baseRunId ?? []);
        resets.push({ runId: latest.runId, resetBasesInHistory: bases, answeredBy: result.earlierRunId });
        expect(result).toMatchObject({ callId: first.callId, outcome: 'achieved' });
        expect(runIds).toContain(result.earlierRunId);
        expect(creates).toBe(1);
        expect(dials(number)).toBe(1);
        runIds.push(latest.runId);
      }
      details.resets = { runIds, resets };
    });
  });

  describe('a hostile API without idempotency: nobody dialed twice, the key nowhere', () => {
    beforeAll(() => stack.sim.setIdempotency('ignore'));
    afterAll(() => {
      stack.sim.setHostile({});
      stack.sim.setIdempotency('honour');
    });

    const ended = (...outcomes: (FailureType | 'completed')[]) => outcomes;
    /** Every error body over 1 MB and ending with the key, and the key in every header. */
    const noisyErrors: Hostility = { keyInErrors: true, keyInHeaders: true, hugeErrors: true };
    interface HostileCall {
      hostile: Hostility | 'all';
      via: 'starter CLI' | 'raw start';
      to?: string;
      fault?: Fault;
      /**
       * Calls the API creates: 1, or 0 when the create is refused. Never 2: a create whose answer is refused or lost
       * is not sent again, as nothing at this API would deduplicate it.
       */
      creates: 0 | 1;
      ends: (FailureType | 'completed')[];
    }
    const cases: [string, HostileCall][] = [
      [
        'every behaviour, through `call --json`',
        { hostile: 'all', via: 'starter CLI', creates: 1, ends: ended(FailureType.CallOutcomeUnknown) },
      ],
      [
        'call ids with terminal controls',
        {
          hostile: { controlIds: true },
          via: 'starter CLI',
          creates: 1,
          ends: ended(FailureType.CallOutcomeUnknown),
        },
      ],
      [
        'the key in every field of the call',
        { hostile: { keyInCalls: true }, via: 'raw start', creates: 1, ends: ended(FailureType.UnexpectedResponse) },
      ],
      [
        'formulas and controls in every field of the call',
        {
          hostile: { formulaCalls: true, controlCalls: true },
          via: 'starter CLI',
          creates: 1,
          ends: ended(FailureType.UnexpectedResponse),
        },
      ],
      ['formula call ids', { hostile: { formulaIds: true }, via: 'starter CLI', creates: 1, ends: ended('completed') }],
      [
        'every behaviour, started raw',
        { hostile: 'all', via: 'raw start', creates: 1, ends: ended(FailureType.CallOutcomeUnknown) },
      ],
      [
        'a 429 whose Retry-After and body are the key',
        {
          hostile: noisyErrors,
          via: 'raw start',
          to: magicNumbers.rateLimitedOnce,
          creates: 1,
          ends: ended('completed'),
        },
      ],
      [
        'a 400 whose 1 MB body ends with the key',
        {
          hostile: noisyErrors,
          via: 'raw start',
          to: magicNumbers.badRequest,
          creates: 0,
          ends: ended(FailureType.InvalidInput),
        },
      ],
      [
        'a 500 on a read whose body is the key',
        {
          hostile: noisyErrors,
          via: 'raw start',
          to: magicNumbers.serverErrorOnceOnRead,
          creates: 1,
          ends: ended('completed'),
        },
      ],
      [
        'a 404 on a read whose body is the key',
        {
          hostile: noisyErrors,
          via: 'raw start',
          to: magicNumbers.vanishes,
          creates: 1,
          ends: ended(FailureType.CallNotFound),
        },
      ],
      [
        'a truncated body on a read, with the key in every header',
        {
          hostile: noisyErrors,
          via: 'raw start',
          to: magicNumbers.malformedJsonOnceOnRead,
          creates: 1,
          ends: ended('completed'),
        },
      ],
      [
        'a 500 on the create whose body is the key',
        {
          hostile: noisyErrors,
          via: 'raw start',
          fault: { on: 'create', kind: 'status500', count: 1 },
          creates: 0,
          ends: ended(FailureType.CallOutcomeUnknown),
        },
      ],
      [
        'a connection reset after the call was created',
        {
          hostile: noisyErrors,
          via: 'raw start',
          fault: { on: 'create', kind: 'reset', count: 1, afterCreate: true },
          creates: 1,
          ends: ended(FailureType.CallOutcomeUnknown),
        },
      ],
    ];
    const outcomes: Record<string, string> = {};

    it.each(cases)('%s: a typed end, one dial at most, the key nowhere in it', async (what, c) => {
      const to = c.to ?? freshNumber();
      stack.sim.setHostile(c.hostile);
      if (c.fault) stack.sim.faults.add(c.fault);
      let ending: string;
      let text: string;
      if (c.via === 'starter CLI') {
        const { code, stdout, stderr } = await starter([
          ...['call', '--to', to, '--objective', objective, '--poll-interval', '200ms', '--json'],
        ]);
        const printed = JSON.parse(stdout) as { failure?: { type: string } };
        ending = printed.failure?.type ?? 'completed';
        text = stdout + stderr;
        expect(code).toBe(printed.failure ? 1 : 0);
        expect(text).not.toMatch(terminalControls);
      } else {
        const handle = await stack.client.workflow.start(placeCallWorkflow, {
          taskQueue: stack.taskQueue,
          workflowId: id('api'),
          args: [{ toPhoneNumber: to, objective, timing: fast }],
        });
        const outcome = await handle.result().then(
          (result) => ({ result }),
          (error: unknown) => ({ error }),
        );
        if ('result' in outcome) {
          ending = 'completed';
          text = JSON.stringify(outcome.result);
        } else {
          const failure = (outcome.error as WorkflowFailedError).cause as ApplicationFailure;
          ending = failure.type ?? 'Unknown';
          text = failure.message;
        }
      }
      stack.sim.setHostile({});
      outcomes[what] = ending;
      const clear = (c.ends as string[]).includes(ending) && dials(to) === c.creates && !text.includes(apiKey);
      count('hostile API', clear, what);
      if (clear) rows.hostile++;
      expect(c.ends).toContain(ending);
      expect(dials(to)).toBe(c.creates);
      expect(text).not.toContain(apiKey);
      expect(stack.sim.redialedNumbers()).toEqual({});
    });

    it('a campaign under every behaviour concludes each target once, dialing each number once', async () => {
      const targets = Array.from({ length: 3 }, () => ({ toPhoneNumber: freshNumber(), objective }));
      const handle = await startCampaign(id('api-campaign'), { name: 'Hostile API', targets });
      stack.sim.setHostile('all');
      const report = await approveAndFinish(handle);
      stack.sim.setHostile({});
      const concluded = report.counts.pending + report.counts.in_flight === 0;
      count(
        'hostile API',
        concluded && targets.every((t) => dials(t.toPhoneNumber) === 1),
        'campaign, every behaviour',
      );
      if (concluded) rows.hostile += targets.length;
      details.hostileCampaign = { counts: report.counts, failedByType: report.failedByType };
      expect(report.state).toBe('completed');
      expect(concluded).toBe(true);
      expect(targets.map((t) => dials(t.toPhoneNumber))).toEqual([1, 1, 1]);
      expect(stack.sim.redialedNumbers()).toEqual({});
    });

    it('`campaign report --csv` escapes every formula call id the API sent', async () => {
      const targets = Array.from({ length: 4 }, () => ({ toPhoneNumber: freshNumber(), objective }));
      const campaignId = id('formula-ids');
      const handle = await startCampaign(campaignId, { name: 'Formula ids', targets });
      stack.sim.setHostile({ formulaIds: true, ...noisyErrors });
      const report = await approveAndFinish(handle);
      stack.sim.setHostile({});
      const file = join(stack.dir, 'formula-report.csv');
      const written = await starter(['campaign', 'report', campaignId, '--csv', file]);
      const cells = parseCsv(readFileSync(file), { columns: true }) as Record<string, string>[];
      const callIds = cells.map((r) => r.call_id ?? '');
      const escaped = callIds.every((c) => /^'[=+\-@]/.test(c));
      count('hostile API', written.code === 0 && cells.length === 4 && escaped, 'formula ids in the CSV report');
      if (escaped) rows.hostile += targets.length;
      details.formulaCallIdCells = callIds;
      expect(report).toMatchObject({ state: 'completed', counts: { achieved: 4 } });
      expect(written.code).toBe(0);
      expect(written.stdout + written.stderr).not.toMatch(terminalControls);
      expect(cells).toHaveLength(4);
      // Every form the simulator sends (=, +, -, @), each with a quote in front, as the API sent it otherwise.
      expect(new Set(callIds.map((c) => c[1]))).toEqual(new Set(['=', '+', '-', '@']));
      const sent = new Set(stack.sim.calls().map((c) => c.callId));
      for (const cell of callIds) {
        expect(cell).toMatch(/^'[=+\-@]/);
        expect(sent.has(cell.slice(1))).toBe(true);
      }
      expect(cells.every((r) => r.to_phone_number?.startsWith("'+"))).toBe(true);
      expect(stack.sim.redialedNumbers()).toEqual({});
    });

    afterAll(() => {
      details.hostileOutcomes = outcomes;
    });
  });

  it('leaves no workflow open but the key’s gate, and no workflow task failing', async () => {
    const runs = await fetchAllRuns(stack.client);
    const failures = workflowTaskFailures(runs);
    details.workflowTaskFailuresByCause = failures.byCause;
    details.runsAudited = runs.length;
    const open = await openWorkflowIds(stack.client);
    stuck = open.length;
    // A reset marks its new run with a RESET_WORKFLOW task failure: the suite's own resets, and only those.
    const unexpected = failures.unexpected.filter((f) => !(f.cause === 'RESET_WORKFLOW' && resetIds.has(f.workflowId)));
    expect(unexpected).toEqual([]);
    expect(open).toEqual([]);
    expect(unclear).toEqual([]);
    expect(stack.sim.redialedNumbers()).toEqual({});
  });

  it('never writes the API key into a history, a log, a failure message or a file', async () => {
    const final = await finishSuite(stack, figuresNow);
    expect(final.secretFoundIn).toEqual([]);
  });
});

function figuresNow(): Figures {
  const tried = Object.values(attempts).reduce((a, b) => a + b, 0);
  const redialed = Object.keys(stack.sim.redialedNumbers()).length;
  return {
    suite: 'hostile',
    title: 'Hostile input and a hostile API: forged starts, id collisions, secrets, files, decisions',
    size: faultsSize,
    seed,
    startedAt: new Date(startedAt).toISOString(),
    durationMs: Date.now() - startedAt,
    command: commandLine('test/faults/hostile.test.ts'),
    machine: machine(),
    faultsInjected: Object.fromEntries(Object.entries(attempts).map(([k, v]) => [`hostile: ${k}`, v])),
    kills: { worker: 0, server: 0, workerWithCreateInFlight: 0 },
    targets: { requested: tried, concluded: tried - unclear.length, duplicates: redialed, lost: unclear.length, stuck },
    rows: {
      'forged starts refused': { value: rows.forged },
      'id collisions kept apart': { value: rows.collisions },
      'id conflicts reported (not adopted)': { value: rows.conflicts },
      'hostile responses survived': { value: rows.hostile },
      'numbers dialed twice (no dedup)': { value: redialed, mustBeZero: true },
    },
    details: {
      ...details,
      unclear,
      apiKeyCeiling: ceiling,
      simulator: stack.sim.stats(),
      dialsByNumber: stack.sim.dialsByNumber(),
    },
    secretFoundIn: [],
  };
}
