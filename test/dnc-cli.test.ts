import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentPhoneClient } from '../src/agentphone';
import { doNotCallList } from '../src/calls';
import { type ContactStore, openContactStore } from '../src/contact-store';
import { defaultContactPolicy } from '../src/policy';
import { type Simulator, startSimulator } from '../src/simulator';
import { type CallWorker, createCallWorker } from '../src/worker';
import { createDevServerEnv, uniqueTaskQueue, workflowBundle } from './helpers/temporal';

// `npm run starter -- dnc …` as an operator runs it: a process of its own that reaches the list through a worker
// (the operator has Temporal access, not the database's credentials).

const run = promisify(execFile);
const root = join(__dirname, '..');
const starterJs = join(root, 'lib', 'starter.js');
const taskQueue = uniqueTaskQueue('dnc-cli');

let env: TestWorkflowEnvironment;
let sim: Simulator;
let store: ContactStore;
let worker: CallWorker;
let running: Promise<void>;
const dir = mkdtempSync(join(tmpdir(), 'dnc-cli-'));

beforeAll(async () => {
  if (!existsSync(starterJs)) throw new Error('lib/ is missing: run `npm run build` first (npm test does).');
  [env, sim, store] = await Promise.all([
    createDevServerEnv(),
    startSimulator({ apiKey: 'sk_test_dnc_cli', progress: 'polls', credits: Number.POSITIVE_INFINITY }),
    openContactStore({ dataDir: join(dir, 'store') }),
  ]);
  worker = await createCallWorker({
    connection: env.nativeConnection,
    taskQueue,
    agentPhone: createAgentPhoneClient({ apiKey: sim.apiKey, baseUrl: sim.baseUrl }),
    gate: false,
    searchAttributes: false,
    worker: { workflowBundle: await workflowBundle() },
    contacts: { store, policy: defaultContactPolicy },
  });
  running = worker.run();
}, 180_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await store?.close();
  await sim?.close();
  await env?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

async function starter(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [starterJs, ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: 'default',
        TEMPORAL_TASK_QUEUE: taskQueue,
      },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm run starter -- dnc', () => {
  it('adds, checks and removes a number, and a call to it while listed fails DoNotCall with nothing sent', async () => {
    const number = '+14155550401';
    const added = await starter('dnc', 'add', number, '--by', 'dana', '--reason', 'asked not to be called');
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(
      /^Listed \+1415•••0401 by dana .* “asked not to be called” \(cli\): it is never called\./,
    );
    expect(added.stdout).not.toContain(number);

    const checked = await starter('dnc', 'check', number, '--json');
    expect(checked.code).toBe(0);
    expect(JSON.parse(checked.stdout)).toMatchObject({ listed: true, entry: { number, by: 'dana', source: 'cli' } });

    const call = await starter('call', '--to', number, '--objective', 'Ask about opening hours', '--json');
    expect(call.code).toBe(1);
    expect(JSON.parse(call.stdout)).toMatchObject({ failure: { type: 'DoNotCall', started: true } });
    expect(sim.requests().filter((r) => r.method === 'POST' && r.toPhoneNumber === number)).toHaveLength(0);

    const removed = await starter('dnc', 'remove', number, '--by', 'dana');
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain('Removed +1415•••0401 from the list.');
    const after = await starter('dnc', 'check', number);
    expect(after.code).toBe(1);
    expect(after.stdout).toContain('is not on the list');
  });

  it('refuses a number that is not E.164 before anything is sent', async () => {
    const result = await starter('dnc', 'add', '415-555-0123', '--by', 'dana');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('does not start with +');
  });

  it('imports a 12,000-line CSV in chunks through the workers, and lists it', async () => {
    const file = join(dir, 'registry.csv');
    const numbers = Array.from({ length: 12_000 }, (_, i) => `+1212555${String(i).padStart(4, '0')}`);
    writeFileSync(file, ['phone_number', ...numbers].join('\n'));
    const imported = await starter('dnc', 'import', file, '--by', 'compliance', '--source', 'registry 2026-12');
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('Imported 12000 lines');
    expect(imported.stdout).toContain('12000 added');
    const page = await doNotCallList(env.client, { op: 'list', offset: 0, limit: 2 }, { taskQueue });
    expect(page.total).toBeGreaterThanOrEqual(12_000);
    expect(await store.dnc.check('+12125551234')).toMatchObject({ by: 'compliance', source: 'registry 2026-12' });

    const again = await starter('dnc', 'import', file, '--by', 'compliance');
    expect(again.stdout).toContain('0 added, 12000 already listed');
  });

  it('refuses a file with bad lines, naming each with its line number, and imports none of it', async () => {
    const file = join(dir, 'crm.csv');
    writeFileSync(file, ['to_phone_number', '+14155550501', '4155550502', '+14155550503', '+0123'].join('\n'));
    const result = await starter('dnc', 'import', file, '--by', 'dana');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('2 of 4 lines are not E.164 numbers; nothing was imported.');
    expect(result.stderr).toContain('line 3: does not start with +');
    expect(result.stderr).toContain('line 5: has a country code starting with 0');
    expect(await store.dnc.check('+14155550501')).toBeUndefined();
  });
});
