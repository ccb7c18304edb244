import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentPhoneClient } from '../src/agentphone';
import { maskPhoneNumber, startCall } from '../src/calls';
import { findTemporalBinary } from '../src/dev/temporal-binaries';
import { dataConverterFor, encryptedEncoding, encryptingFailureConverterPath } from '../src/encryption/codec';
import { type CodecServer, startCodecServer } from '../src/encryption/codec-server';
import { createKeyRing, EncryptionKey } from '../src/encryption/keys';
import type { CallResult } from '../src/shared/call-types';
import { FailureType } from '../src/shared/failures';
import { callStateQuery } from '../src/shared/messages';
import { searchAttributeKeys } from '../src/shared/search-attributes';
import type { Timing } from '../src/shared/timing';
import { magicNumbers, type Simulator, startSimulator } from '../src/simulator';
import { type CallWorker, createCallWorker } from '../src/worker';
import {
  browserUnavailable,
  freePort,
  launchBrowser,
  openCompletedWorkflow,
  openCurrentDetails,
  openUiPage,
  openWorkflow,
  scrollUntilShown,
} from './helpers/browser';
import { historyOf, quietLogger, uniqueId, uniqueTaskQueue, workflowsPath } from './helpers/temporal';

const root = join(__dirname, '..');
const screenshots = join(root, 'docs', 'screenshots');
// The SDK loads a failure converter with Node's own require, which cannot load src/'s .ts: `npm run build` makes this.
const builtFailureConverter = join(root, 'lib', 'encryption', 'failure-converter.js');
const unavailable = browserUnavailable();
if (unavailable) console.warn(`Web UI tests skipped: ${unavailable}`);

const ring = createKeyRing([new EncryptionKey('ui-test', randomBytes(32))]);
const token = randomBytes(24).toString('base64url');
const businessName = 'Larkspur Veterinary';
const objective = 'Move the vaccination of Biscuit the beagle to Thursday';
/** What must never be readable without the codec server. */
const secrets = [objective, businessName, magicNumbers.achieved, magicNumbers.achieved.slice(1)];
const fast: Timing = { pollInterval: '200ms' };
/** The dial-slot wait's activity summary (src/workflows/place-call.ts): user metadata, so encrypted too. */
const slotSummary = 'wait for a dial slot (single call: first in line)';
const encryptedInBase64 = Buffer.from(encryptedEncoding).toString('base64');
/**
 * Payloads that no codec sees: search attributes, which the server indexes (they hold states only,
 * src/shared/search-attributes.ts), and the SDK core's own marker data (patch ids; a local activity's sequence
 * number, type and times; not its result, which is encrypted).
 */
const plainByDesign = [/\.searchAttributes\./, /\.markerRecordedEventAttributes\.details\.(patch-data|data)\./];

/** A dev server with its Web UI, a codec server, a simulator on a fast clock and a worker that encrypts. */
interface Stack {
  env: TestWorkflowEnvironment;
  codec: CodecServer;
  /** The codec server's log: one line per refused request. */
  codecLog: string[];
  uiUrl: string;
  taskQueue: string;
  close(): Promise<void>;
}

async function startStack({ uiCodecEndpoint }: { uiCodecEndpoint: boolean }): Promise<Stack> {
  if (!existsSync(builtFailureConverter)) {
    throw new Error(`${builtFailureConverter} is missing: run \`npm run build\` before these tests.`);
  }
  const uiPort = await freePort();
  const codecLog: string[] = [];
  const codec = await startCodecServer({
    ring,
    token,
    port: 0,
    allowedOrigins: [`http://localhost:${uiPort}`, `http://127.0.0.1:${uiPort}`],
    log: (line) => codecLog.push(line),
  });
  const dataConverter: DataConverter = { ...dataConverterFor(ring), failureConverterPath: builtFailureConverter };
  let env: TestWorkflowEnvironment | undefined;
  let sim: Simulator | undefined;
  let worker: CallWorker | undefined;
  let running: Promise<void> | undefined;
  const close = async () => {
    worker?.shutdown();
    await running;
    await Promise.all([sim?.close(), codec.close()]);
    await env?.teardown();
  };
  try {
    let workflowBundle: WorkflowBundleWithSourceMap;
    [env, sim, workflowBundle] = await Promise.all([
      TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: findTemporalBinary('cli') },
          ui: true,
          uiPort,
          searchAttributes: searchAttributeKeys,
          // The UI cannot send our bearer token, so its endpoint carries it in the path.
          extraArgs: uiCodecEndpoint ? ['--ui-codec-endpoint', `${codec.url}/t/${token}`] : [],
        },
        client: { dataConverter },
      }),
      // A twentieth of the API's clock: a call lasts under two seconds.
      startSimulator({ progress: 'time', timeScale: 1 / 20, credits: Number.POSITIVE_INFINITY }),
      encryptedWorkflowBundle(),
    ]);
    const taskQueue = uniqueTaskQueue('encryption-ui');
    worker = await createCallWorker({
      connection: env.nativeConnection,
      taskQueue,
      agentPhone: createAgentPhoneClient({ apiKey: sim.apiKey, baseUrl: sim.baseUrl }),
      encryption: ring,
      worker: { dataConverter, workflowBundle },
    });
    running = worker.run();
    return { env, codec, codecLog, uiUrl: `http://127.0.0.1:${uiPort}`, taskQueue, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function completeCall(stack: Stack, workflowId: string): Promise<CallResult> {
  const { handle } = await startCall(
    stack.env.client,
    { toPhoneNumber: magicNumbers.achieved, objective, businessName, timing: fast },
    { taskQueue: stack.taskQueue, workflowId },
  );
  return handle.result();
}

async function failCall(stack: Stack, workflowId: string): Promise<void> {
  const { handle } = await startCall(
    stack.env.client,
    { toPhoneNumber: magicNumbers.failed, objective, businessName, timing: fast },
    { taskQueue: stack.taskQueue, workflowId },
  );
  await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
}

describe('an encrypted call on a dev server whose Web UI has no codec endpoint', () => {
  let stack: Stack;
  let browser: Browser | undefined;
  // Short ids keep the screenshots' headings on one line.
  const completedId = uniqueId('call').slice(0, 13);
  const failedId = uniqueId('call').slice(0, 13);
  let result: CallResult;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([
      startStack({ uiCodecEndpoint: false }),
      unavailable ? undefined : launchBrowser(),
    ]);
    [result] = await Promise.all([completeCall(stack, completedId), failCall(stack, failedId)]);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  const show = (...options: string[]) =>
    temporal([
      'workflow',
      'show',
      '--workflow-id',
      completedId,
      '--address',
      stack.env.address,
      '--output',
      'json',
      ...options,
    ]);

  it('is ciphertext in `temporal workflow show`: every payload binary/encrypted, no objective, business or number', async () => {
    const { code, stdout } = await show();
    expect(code).toBe(0);
    const payloads = payloadsIn(JSON.parse(stdout));
    const stored = payloads.filter((p) => !plainByDesign.some((where) => where.test(p.where)));
    expect(stored.map((p) => p.where)).toEqual(
      expect.arrayContaining([
        'events[0].userMetadata.summary',
        'events[0].userMetadata.details',
        'events[0].workflowExecutionStartedEventAttributes.input.payloads[0]',
        'events[0].workflowExecutionStartedEventAttributes.memo.fields.objective',
        'events[0].workflowExecutionStartedEventAttributes.memo.fields.businessName',
      ]),
    );
    expect(payloadAt(stored, /workflowExecutionCompletedEventAttributes\.result\.payloads\[0\]$/)).toBeDefined();
    expect(stored.filter((p) => p.encoding !== encryptedEncoding).map((p) => p.where)).toEqual([]);

    const readable = [stdout, ...payloads.map((p) => p.text)].join('\n');
    for (const secret of [...secrets, result.summary ?? 'no summary']) expect(readable).not.toContain(secret);
  });

  it('shows through `--codec-endpoint` with the bearer token: the objective, outcome and summary', async () => {
    const { code, stdout } = await show('--codec-endpoint', stack.codec.url, '--codec-auth', `Bearer ${token}`);
    expect(code).toBe(0);
    const payloads = payloadsIn(JSON.parse(stdout));
    expect(payloads.filter((p) => p.encoding === encryptedEncoding).map((p) => p.where)).toEqual([]);

    const input = payloadAt(payloads, /workflowExecutionStartedEventAttributes\.input\.payloads\[0\]$/);
    expect(JSON.parse(input?.text ?? '')).toMatchObject({
      toPhoneNumber: magicNumbers.achieved,
      objective,
      businessName,
    });
    const output = payloadAt(payloads, /workflowExecutionCompletedEventAttributes\.result\.payloads\[0\]$/);
    expect(JSON.parse(output?.text ?? '')).toMatchObject({ outcome: 'achieved', summary: result.summary });
    expect(result.summary).toContain(businessName);
    expect(JSON.parse(payloadAt(payloads, /memo\.fields\.objective$/)?.text ?? '')).toBe(objective);
  });

  it('stays unreadable to the CLI with a wrong token: the codec server answers 401 and the command fails', async () => {
    const logged = stack.codecLog.length;
    const { code, stdout, stderr } = await show(
      '--codec-endpoint',
      stack.codec.url,
      '--codec-auth',
      `Bearer ${token}x`,
      // The CLI retries the refused decode until its deadline.
      '--command-timeout',
      '5s',
    );
    expect(code).not.toBe(0);
    expect(stdout.trim()).toBe('');
    expect(stderr).toContain('failed getting next history event');
    expect(stack.codecLog.slice(logged)).toContain('codec server: POST /decode → 401 missing or wrong bearer token');
  });

  it.skipIf(unavailable !== undefined)(
    'shows as ciphertext in the Web UI: input, result, memo and failure message encrypted, summaries missing',
    async () => {
      const [input, output] = await storedPayloads(stack, completedId);
      const page = await openUiPage(browser as Browser, stack.uiUrl);
      await openCompletedWorkflow(page, completedId);
      // The UI shows an encrypted payload as its data, in base64, as stored.
      const io = page.getByTestId('input-and-result');
      await io.getByText(input.slice(0, 40), { exact: false }).waitFor();
      expect(await io.innerText()).toContain(input);
      expect(await io.innerText()).toContain(output);
      // Activity types are plain; their summaries, user metadata, are not.
      await page.getByText('waitForDialSlot').first().waitFor();
      await page.screenshot({ path: shot('encryption-encrypted.png') });
      expect(await page.locator('main').innerText()).not.toContain(slotSummary);
      await expectNoSecrets(page);

      await page.getByTestId('memo-tab').click();
      await page.getByText(`"encoding": "${encryptedInBase64}"`).first().waitFor();
      await expectNoSecrets(page);

      await page.getByTestId('user-metadata-tab').click();
      await page.getByText('No summary available').waitFor();
      await page.getByText('No details available').waitFor();
      await expectNoSecrets(page);

      // A failure's message and stack trace travel in its encoded attributes, encrypted.
      await openWorkflow(page, failedId);
      await io.getByText('"message": "Encoded failure"').waitFor();
      const failure = await io.innerText();
      expect(failure).toContain(`"encoding": "${encryptedInBase64}"`);
      expect(failure).not.toContain('failed at AgentPhone');
      await expectNoSecrets(page);
    },
  );
});

describe.skipIf(unavailable !== undefined)(
  'the Web UI decrypts calls through the codec server (headless Chromium)',
  () => {
    let stack: Stack;
    let browser: Browser;
    let page: Page;
    const completedId = uniqueId('call').slice(0, 13);
    const failedId = uniqueId('call').slice(0, 13);
    const runningId = uniqueId('call').slice(0, 13);
    let result: CallResult;

    beforeAll(async () => {
      [stack, browser] = await Promise.all([startStack({ uiCodecEndpoint: true }), launchBrowser()]);
      [result] = await Promise.all([completeCall(stack, completedId), failCall(stack, failedId)]);
      page = await openUiPage(browser, stack.uiUrl);
    });

    afterAll(async () => {
      await browser?.close();
      await stack?.env.client.workflow
        .getHandle(runningId)
        .terminate('test over')
        .catch(() => undefined);
      await stack?.close();
    });

    it("shows a completed call's objective, outcome, summary and its activities' summaries", async () => {
      await openCompletedWorkflow(page, completedId);
      const io = page.getByTestId('input-and-result');
      await io.getByText(`"objective": "${objective}"`).waitFor();
      await io.getByText(`"businessName": "${businessName}"`).waitFor();
      await io.getByText('"outcome": "achieved"').waitFor();
      expect(result.summary).toMatch(/^Called Larkspur Veterinary about/);
      await io.getByText('Called Larkspur Veterinary about', { exact: false }).first().waitFor();
      await page.getByText(slotSummary, { exact: false }).first().waitFor();
      expect(await page.getByText('Codec Server could not connect').count()).toBe(0);
      await page.screenshot({ path: shot('encryption-decoded.png') });
    });

    it("shows the start's summary and details and the memo", async () => {
      await openWorkflow(page, completedId);
      await page.getByTestId('user-metadata-tab').click();
      const summary = page.frameLocator('#user-metadata-summary').locator('body');
      await summary.getByText(`Call ${maskPhoneNumber(magicNumbers.achieved)} (${businessName})`).waitFor();
      await page.frameLocator('#user-metadata-details').locator('body').getByText(objective).waitFor();

      await page.getByTestId('memo-tab').click();
      await page.getByText(`"objective": "${objective}"`).waitFor();
      await page.getByText(`"businessName": "${businessName}"`).waitFor();
    });

    it("shows a running call's current details", async () => {
      const { handle } = await startCall(
        stack.env.client,
        { toPhoneNumber: magicNumbers.neverEnds, objective: 'Hold the line', timing: fast },
        { taskQueue: stack.taskQueue, workflowId: runningId },
      );
      await waitFor(async () => (await handle.query(callStateQuery)).polls >= 2, 20_000);
      const details = await openCurrentDetails(page, runningId);
      expect(details.values.phase).toBe('polling');
      expect(Number(details.values.polls)).toBeGreaterThanOrEqual(2);
      expect(details.values['last status']).toBe('in_progress');
      expect(details.values['call id']).toMatch(/^cl_/);
      expect(details.text).not.toContain(magicNumbers.neverEnds);
    });

    it("shows a failed call's message and details", async () => {
      await openWorkflow(page, failedId);
      const io = page.getByTestId('input-and-result');
      await io
        .getByText(/"message": "Call cl_\w+ failed at AgentPhone\."/)
        .first()
        .waitFor();
      await scrollUntilShown(page, io, `"type": "${FailureType.CallFailed}"`);
      await scrollUntilShown(page, io, /"callId": "cl_\w+"/);
      await scrollUntilShown(page, io, '"lastStatus": "failed"');
      // The last line of the result, below the code block's first view: found only by scrolling that block.
      await scrollUntilShown(page, io, '"workflowTaskCompletedEventId"');
      expect(await io.innerText()).not.toContain(encryptedInBase64);
    });
  },
);

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflows with the encrypting failure converter, as `npm run build` bundles them for lib/: once per file. */
function encryptedWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath,
    failureConverterPath: encryptingFailureConverterPath,
    logger: quietLogger,
  });
  return bundle;
}

/** A payload as `temporal workflow show --output json` prints it: where, its encoding, its data as UTF-8. */
interface ShownPayload {
  where: string;
  encoding: string;
  text: string;
}

const fromBase64 = (value: unknown) => (typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : '');

/** Every payload in the CLI's JSON (an object with `metadata.encoding`), found wherever it is. */
function payloadsIn(value: unknown, where = ''): ShownPayload[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => payloadsIn(item, `${where}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  const { metadata, data } = value as { metadata?: { encoding?: unknown }; data?: unknown };
  if (typeof metadata?.encoding === 'string') {
    return [{ where, encoding: fromBase64(metadata.encoding), text: fromBase64(data) }];
  }
  return Object.entries(value).flatMap(([key, item]) => payloadsIn(item, where ? `${where}.${key}` : key));
}

function payloadAt(payloads: ShownPayload[], where: RegExp): ShownPayload | undefined {
  const found = payloads.filter((p) => where.test(p.where));
  expect(found, `one payload at ${where}`).toHaveLength(1);
  return found[0];
}

/** The input's and the result's data as the server stores them, in base64. */
async function storedPayloads(stack: Stack, workflowId: string): Promise<[string, string]> {
  const events = await historyOf(stack.env.client.workflow.getHandle(workflowId));
  const input = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  const output = events.at(-1)?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0];
  for (const payload of [input, output]) {
    expect(Buffer.from(payload?.metadata?.encoding ?? []).toString()).toBe(encryptedEncoding);
  }
  return [Buffer.from(input?.data ?? []).toString('base64'), Buffer.from(output?.data ?? []).toString('base64')];
}

async function expectNoSecrets(page: Page): Promise<void> {
  const text = await page.locator('main').innerText();
  for (const secret of secrets) expect(text).not.toContain(secret);
}

/** Runs the Temporal CLI without the machine's profile, config file or TEMPORAL_* variables. */
function temporal(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Asynchronous: the codec server the CLI calls runs in this process.
    execFile(
      findTemporalBinary('cli'),
      [...args, '--disable-config-file', '--disable-config-env'],
      { env: { PATH: process.env.PATH }, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

function shot(name: string): string {
  mkdirSync(screenshots, { recursive: true });
  return join(screenshots, name);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
