import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { magicNumbers, type Simulator, startSimulator } from '../src/simulator';
import { createDevServerEnv, uniqueId, uniqueTaskQueue } from './helpers/temporal';
import { freshDataDir, scratchDir } from './helpers/data-dir';

const run = promisify(execFile);
const root = join(__dirname, '..');
const workerJs = join(root, 'lib', 'worker.js');
const starterJs = join(root, 'lib', 'starter.js');
const apiKey = 'sk_integration_SECRET_41d2';

let env: TestWorkflowEnvironment;
let sim: Simulator;
let worker: ChildProcess | undefined;
let workerLog = '';
/** The running worker's embedded contact store. */
const workerDataDir = freshDataDir();
const taskQueue = uniqueTaskQueue('integration');

function processEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    ...extra,
  };
}

async function starter(args: string[], extra: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [starterJs, ...args], {
      env: processEnv(extra),
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The production worker run to its exit, for the starts it must refuse: its exit code and what it printed. */
async function workerRun(env: NodeJS.ProcessEnv, timeout: number): Promise<{ code: number; stderr: string }> {
  return run(process.execPath, [workerJs], { env, timeout }).then(
    () => ({ code: 0, stderr: '' }),
    (e: { code: number; stderr: string }) => e,
  );
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
      AGENTPHONE_DATA_DIR: workerDataDir,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout?.on('data', (d) => (workerLog += d));
  worker.stderr?.on('data', (d) => (workerLog += d));
  await waitFor(
    () => workerLog.includes('agentphone worker'),
    30_000,
    () => workerLog,
  );
});

afterAll(async () => {
  worker?.kill('SIGKILL');
  await sim?.close();
  await env?.teardown();
});

describe('the worker and the starter CLI against a real dev server', () => {
  it('places a call from the CLI and prints the result as JSON', async () => {
    const { code, stdout } = await starter([
      'call',
      '--to',
      magicNumbers.partial,
      '--objective',
      'Ask about the return policy',
      '--business-name',
      'Acme Outdoor',
      '--poll-interval',
      '200ms',
      '--json',
    ]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ status: 'completed', outcome: 'partial', callId: expect.stringMatching(/^cl_/) });
    expect(result.workflowId).toMatch(/^call-/);
    expect(result.summary).toBeTruthy();
  });

  it('prints the live status and the transcript in text mode', async () => {
    const { code, stdout } = await starter([
      'call',
      '--to',
      magicNumbers.achieved,
      '--objective',
      'Book a table',
      '--poll-interval',
      '300ms',
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Started workflow call-/);
    expect(stdout).toMatch(/polling/);
    expect(stdout).toMatch(/completed: achieved/);
    expect(stdout).toMatch(/Transcript:\n {2}Agent:/);
  });

  it('never places a second call when the same id is started twice', async () => {
    const id = uniqueId('request');
    const args = [
      'call',
      '--to',
      magicNumbers.achieved,
      '--objective',
      'Once only',
      '--id',
      id,
      '--poll-interval',
      '200ms',
      '--json',
    ];
    const before = sim.stats().creates;
    const first = await starter(args);
    const second = await starter(args);
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).callId).toBe(JSON.parse(first.stdout).callId);
    expect(sim.stats().creates - before).toBe(1);
  });

  it('reports a failed call with its type and what to do, exit code 1', async () => {
    const { code, stderr } = await starter([
      'call',
      '--to',
      magicNumbers.failed,
      '--objective',
      'Will fail',
      '--poll-interval',
      '200ms',
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain('CallFailed');
    expect(stderr).toContain('What to do:');
  });

  it('refuses an emergency number with exit code 2 and starts nothing', async () => {
    const before = sim.requests().length;
    const { code, stdout } = await starter(['call', '--to', '911', '--objective', 'x', '--json']);
    expect(code).toBe(2);
    expect(JSON.parse(stdout).failure).toMatchObject({ type: 'ForbiddenNumber', started: false });
    expect(sim.requests().length).toBe(before);
  });

  it('returns at once with --no-wait, printing the workflow id', async () => {
    const { code, stdout } = await starter([
      'call',
      '--to',
      magicNumbers.achieved,
      '--objective',
      'Fire and forget',
      '--no-wait',
      '--poll-interval',
      '200ms',
    ]);
    expect(code).toBe(0);
    const id = /Started workflow (\S+)/.exec(stdout)?.[1];
    expect(id).toBeTruthy();
    const result = await env.client.workflow.getHandle(id!).result();
    expect(result.outcome).toBe('achieved');
  });

  it('never writes the API key into the worker log', () => {
    expect(workerLog).not.toContain(apiKey);
  });
});

describe('the worker process', () => {
  it('exits non-zero at once, naming AGENTPHONE_API_KEY, when the key is missing, and calls nothing', async () => {
    const before = sim.requests().length;
    const started = Date.now();
    const result = await workerRun(processEnv({ AGENTPHONE_BASE_URL: sim.baseUrl }), 20_000);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('AGENTPHONE_API_KEY');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(sim.requests().length).toBe(before);
  });

  it('refuses to start on an embedded contact store another worker holds, naming AGENTPHONE_DATABASE_URL', async () => {
    const result = await workerRun(
      processEnv({
        AGENTPHONE_API_KEY: apiKey,
        AGENTPHONE_BASE_URL: sim.baseUrl,
        AGENTPHONE_DATA_DIR: workerDataDir,
      }),
      60_000,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('AGENTPHONE_DATABASE_URL');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses to start on a contact policy file with an unknown key or impossible hours, listing each, calling nothing', async () => {
    const file = join(scratchDir(), 'policy.json');
    writeFileSync(
      file,
      JSON.stringify({ caps: { perNumer: { limit: 2 } }, hours: { default: { start: '25:00', end: '21:00' } } }),
    );
    const before = sim.requests().length;
    const result = await workerRun(
      processEnv({
        AGENTPHONE_API_KEY: apiKey,
        AGENTPHONE_BASE_URL: sim.baseUrl,
        AGENTPHONE_DATA_DIR: freshDataDir(),
        AGENTPHONE_CONTACT_POLICY: file,
      }),
      20_000,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(file);
    expect(result.stderr).toContain('perNumer');
    expect(result.stderr).toContain('"25:00" is not an HH:MM clock');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(sim.requests().length).toBe(before);
  });

  it('drains and exits 0 on SIGTERM', async () => {
    const proc = spawn(process.execPath, [workerJs], {
      env: processEnv({
        AGENTPHONE_API_KEY: apiKey,
        AGENTPHONE_BASE_URL: sim.baseUrl,
        AGENTPHONE_DATA_DIR: freshDataDir(),
        TEMPORAL_TASK_QUEUE: uniqueTaskQueue('sigterm'),
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    await waitFor(
      () => out.includes('agentphone worker'),
      30_000,
      () => out,
    );
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

async function waitFor(check: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting; output so far:\n${describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
