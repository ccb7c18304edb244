import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAgentPhoneClient } from '../src/agentphone';
import { startCall } from '../src/calls';
import { type ContactStore, openContactStore } from '../src/contact-store';
import { type ContactPolicy, parseContactPolicy } from '../src/policy';
import { type CampaignProgress } from '../src/shared/campaign-types';
import { failureOf, FailureType } from '../src/shared/failures';
import { approveCampaignUpdate } from '../src/shared/messages';
import { magicNumbers, type Simulator, startSimulator } from '../src/simulator';
import { type CallWorker, createCallWorker } from '../src/worker';
import { callCampaignWorkflow } from '../src/workflows';
import { waitForProgress } from './helpers/campaign';
import { campaignReport } from '../src/cli/report';
import { startPostgres, type TestPostgres } from './helpers/postgres';
import { createDevServerEnv, recordHistory, uniqueId, uniqueTaskQueue, workflowBundle } from './helpers/temporal';

// The contact policy as the worker enforces it, right before every create: on a dev server, with the gate, the
// simulator over HTTP, and each store (the embedded one and a real PostgreSQL).

const timing = { pollInterval: '200ms', enrichmentInterval: '50ms' };
/** One gate queue for the file: the key's gate is one workflow, and it stays on the queue it was started on. */
const gateQueue = uniqueTaskQueue('contact-policy-gate');

let env: TestWorkflowEnvironment;
let sim: Simulator;
let postgres: TestPostgres;

beforeAll(async () => {
  [env, sim, postgres] = await Promise.all([
    createDevServerEnv(),
    startSimulator({ apiKey: 'sk_test_contact_policy', progress: 'polls', credits: Number.POSITIVE_INFINITY }),
    startPostgres(),
  ]);
}, 180_000);

afterAll(async () => {
  await sim?.close();
  await postgres?.stop();
  await env?.teardown();
});

beforeEach(() => sim.reset());

const stores: { kind: string; open: () => Promise<ContactStore>; cleanup?: () => void }[] = [
  (() => {
    const dir = mkdtempSync(join(tmpdir(), 'contact-policy-test-'));
    return {
      kind: 'embedded',
      open: () => openContactStore({ dataDir: dir }),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  })(),
  { kind: 'postgres', open: async () => openContactStore({ databaseUrl: await postgres.createDatabase() }) },
];

const posts = (number: string) => sim.requests().filter((r) => r.method === 'POST' && r.toPhoneNumber === number);

/** A worker of its own on `taskQueue`, checking `policy` on `store` before every create; without the gate unless asked. */
async function workerWith(
  taskQueue: string,
  store: ContactStore,
  policy: ContactPolicy,
  gate: { taskQueue: string } | false = false,
): Promise<CallWorker> {
  return createCallWorker({
    connection: env.nativeConnection,
    taskQueue,
    agentPhone: createAgentPhoneClient({ apiKey: sim.apiKey, baseUrl: sim.baseUrl }),
    ...(gate ? { gate, rateLimit: { count: 100, windowMs: 1_000 } } : { gate: false }),
    searchAttributes: false,
    worker: { workflowBundle: await workflowBundle() },
    contacts: { store, policy },
  });
}

describe.each(stores)('the contact policy on the $kind store', ({ open, cleanup }) => {
  let store: ContactStore;
  let worker: CallWorker;
  let running: Promise<void>;
  let taskQueue: string;
  let policy: ContactPolicy;

  beforeAll(async () => {
    store = await open();
    // Its campaigns run at any hour of the day: the recipients' hours have a test of their own.
    policy = parseContactPolicy(
      { hours: { campaigns: false }, caps: { perNumber: { limit: 2, window: '24h' } } },
      'test policy',
    );
    taskQueue = uniqueTaskQueue('contact-policy');
    worker = await workerWith(taskQueue, store, policy, { taskQueue: gateQueue });
    running = worker.run();
  }, 180_000);

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await store?.close();
    cleanup?.();
  });

  const call = async (toPhoneNumber: string) => {
    const { handle } = await startCall(
      env.client,
      { toPhoneNumber, objective: 'Ask about opening hours', timing },
      { taskQueue, workflowId: uniqueId('call') },
    );
    return handle.result().then(
      (result) => ({ ok: true as const, result }),
      (error: unknown) => ({ ok: false as const, failure: failureOf(error) }),
    );
  };

  it('never dials a number on the do-not-call list: the call fails DoNotCall and no request is sent', async () => {
    const number = '+14155550301';
    await store.dnc.add({ number, by: 'dana', reason: 'asked not to be called', source: 'opt-out' });
    const ended = await call(number);
    expect(ended.ok).toBe(false);
    if (ended.ok) return;
    expect(ended.failure.type).toBe(FailureType.DoNotCall);
    expect(ended.failure.message).toContain('+1415•••0301 is on the do-not-call list');
    expect(ended.failure.message).not.toContain(number);
    expect(ended.failure.details).toEqual([
      expect.objectContaining({ by: 'dana', reason: 'asked not to be called', source: 'opt-out' }),
    ]);
    expect(posts(number)).toHaveLength(0);
  });

  it('dials a number again once it is taken off the list', async () => {
    const number = '+14155550302';
    await store.dnc.add({ number, by: 'dana' });
    expect((await call(number)).ok).toBe(false);
    await store.dnc.remove(number, 'dana');
    const ended = await call(number);
    expect(ended.ok && ended.result.status).toBe('completed');
    expect(posts(number)).toHaveLength(1);
  });

  it('fails the call over the frequency cap FrequencyCapped, with when it is allowed again, and sends nothing', async () => {
    const number = '+14155550303';
    const before = Date.now();
    expect((await call(number)).ok).toBe(true);
    expect((await call(number)).ok).toBe(true);
    const third = await call(number);
    expect(third.ok).toBe(false);
    if (third.ok) return;
    expect(third.failure.type).toBe(FailureType.FrequencyCapped);
    const [details] = third.failure.details as [{ cap: string; allowedAt: string }];
    expect(details.cap).toBe('per-number');
    const allowedAt = Date.parse(details.allowedAt);
    expect(allowedAt).toBeGreaterThanOrEqual(before + 24 * 3600_000);
    expect(allowedAt).toBeLessThan(Date.now() + 24 * 3600_000);
    expect(posts(number)).toHaveLength(2);
  });

  it('lets exactly one of two calls to one number at one instant through a cap of one', async () => {
    const strict = parseContactPolicy({ caps: { perNumber: { limit: 1, window: '24h' } } }, 'cap of one');
    const number = '+14155550304';
    const raceQueue = uniqueTaskQueue('contact-race');
    const raceWorker = await workerWith(raceQueue, store, strict);
    const endings = await raceWorker.runUntil(async () => {
      const handles = await Promise.all(
        [1, 2].map(async () => {
          const started = await startCall(
            env.client,
            { toPhoneNumber: number, objective: 'Ask about opening hours', timing },
            { taskQueue: raceQueue, workflowId: uniqueId('race') },
          );
          return started.handle;
        }),
      );
      return Promise.all(
        handles.map((h) =>
          h.result().then(
            () => 'completed',
            (e: unknown) => failureOf(e).type,
          ),
        ),
      );
    });
    expect(endings.sort()).toEqual(['FrequencyCapped', 'completed']);
    expect(posts(number)).toHaveLength(1);
  });

  it('does not count a call the API refused (402): the number may be called again at once', async () => {
    const number = '+14155550305';
    sim.setCredits(0);
    const refused = await call(number);
    expect(!refused.ok && refused.failure.type).toBe(FailureType.InsufficientCredits);
    sim.setCredits(Number.POSITIVE_INFINITY);
    expect((await call(number)).ok).toBe(true);
    expect((await call(number)).ok).toBe(true);
    expect(posts(number)).toHaveLength(3);
  });

  it('defers a campaign target over its cap until the cap allows it, then calls it: never early, never skipped', async () => {
    const shortCap = parseContactPolicy(
      { hours: { campaigns: false }, caps: { perNumber: { limit: 1, window: '20s' } } },
      'one call per 20 s',
    );
    const number = '+14155550307';
    const campaignQueue = uniqueTaskQueue('contact-defer');
    const campaignWorker = await workerWith(campaignQueue, store, shortCap);
    const report = await campaignWorker.runUntil(async () => {
      const { handle: single } = await startCall(
        env.client,
        { toPhoneNumber: number, objective: 'Ask', timing },
        { taskQueue: campaignQueue, workflowId: uniqueId('call') },
      );
      await single.result();
      const handle = await env.client.workflow.start(callCampaignWorkflow, {
        taskQueue: campaignQueue,
        workflowId: uniqueId('campaign-defer'),
        args: [{ name: 'Deferred by the cap', targets: [{ toPhoneNumber: number, objective: 'Ask' }], timing }],
      });
      await waitForProgress(handle, (p) => p.state === 'awaiting_approval', 60_000);
      await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'ops' }] });
      const held = await waitForProgress(handle, (p) => p.deferred !== undefined, 30_000);
      expect(held.deferred?.count).toBe(1);
      return (await handle.result()) as CampaignProgress;
    });
    expect(report.counts).toMatchObject({ achieved: 1, skipped: 0, failed: 0 });
    const [first, second] = posts(number).map((r) => r.at);
    expect(posts(number)).toHaveLength(2);
    expect(second! - first!).toBeGreaterThanOrEqual(20_000);
  });

  it('skips a campaign target put on the list after approval as do_not_call, and calls the others', async () => {
    const listed = magicNumbers.achieved;
    const other = '+14155550306';
    const handle = await env.client.workflow.start(callCampaignWorkflow, {
      taskQueue,
      workflowId: uniqueId('campaign-dnc'),
      args: [
        {
          name: 'Do-not-call at dial time',
          targets: [listed, other].map((toPhoneNumber) => ({ toPhoneNumber, objective: 'Ask' })),
          timing,
        },
      ],
    });
    await waitForProgress(handle, (p) => p.state === 'awaiting_approval', 60_000);
    await store.dnc.add({ number: listed, by: 'dana', reason: 'asked during the review' });
    await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'ops' }] });
    const report = (await handle.result()) as CampaignProgress;
    expect(report.counts).toMatchObject({ skipped: 1, achieved: 1 });
    expect(report.skippedByReason).toEqual({ do_not_call: 1 });
    expect(posts(listed)).toHaveLength(0);
    expect(posts(other)).toHaveLength(1);
  });

  it('counts at validation the targets the policy would refuse or defer, and why, for the preview', async () => {
    const [listed, full, clear] = ['+14155550311', '+14155550312', '+14155550313'];
    await store.dnc.add({ number: listed, by: 'dana', reason: 'asked not to be called' });
    for (let i = 0; i < 2; i++) expect((await call(full)).ok).toBe(true);
    const handle = await env.client.workflow.start(callCampaignWorkflow, {
      taskQueue,
      workflowId: uniqueId('campaign-preview'),
      args: [
        {
          name: 'Preview',
          targets: [listed, full, clear].map((toPhoneNumber) => ({ toPhoneNumber, objective: 'Ask' })),
          timing,
        },
      ],
    });
    const progress = await waitForProgress(handle, (p) => p.state === 'awaiting_approval', 60_000);
    const firstCall = posts(full)[0]!.at;
    expect(progress.validation).toMatchObject({ valid: 3, refused: 0 });
    expect(progress.validation?.policy).toEqual({
      at: expect.any(String),
      doNotCall: 1,
      capped: 1,
      cappedBy: { 'per-number': 1 },
      cappedUntil: expect.any(String),
      // This suite's policy keeps campaigns to their own windows.
      recipientHours: { applied: false, noTimezone: 0 },
    });
    // The suite's policy: 2 calls in 24 h. The first of the two leaves the window a day after it was placed.
    const until = Date.parse(progress.validation!.policy!.cappedUntil!);
    expect(Math.abs(until - (firstCall + 86_400_000))).toBeLessThan(5_000);
    await handle.cancel();
  });

  it("redials a target on its retry ladder past the per-campaign cap, within the number's cap, and reports each call", async () => {
    const number = magicNumbers.notAchieved;
    const workflowId = uniqueId('campaign-ladder');
    const handle = await env.client.workflow.start(callCampaignWorkflow, {
      taskQueue,
      workflowId,
      args: [
        {
          name: 'Ladder',
          targets: [{ toPhoneNumber: number, objective: 'Ask' }],
          retry: { on: ['not_achieved'], delays: ['3s'], maxAttempts: 2 },
          timing,
        },
      ],
    });
    await waitForProgress(handle, (p) => p.state === 'awaiting_approval', 60_000);
    await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'ops' }] });
    const waiting = await waitForProgress(handle, (p) => p.retrying !== undefined, 30_000);
    expect(waiting).toMatchObject({ state: 'running', retrying: { count: 1 }, counts: { pending: 1 } });
    // Without the ladder's exemption the policy's one call per number per campaign would defer it for years.
    const progress = await waitForProgress(handle, (p) => p.state === 'completed', 60_000);
    expect(progress.counts).toMatchObject({ not_achieved: 1, pending: 0 });
    const [first, second] = posts(number).map((r) => r.at);
    expect(posts(number)).toHaveLength(2);
    expect(second! - first!).toBeGreaterThanOrEqual(3_000);
    await recordHistory(handle, 'campaign-retry-ladder');
    const report = await campaignReport(env.client, workflowId);
    const [row] = report.targets;
    expect(row).toMatchObject({ state: 'not_achieved', childWorkflowId: `${workflowId}/item-0/r2` });
    expect(row!.attempts?.map((a) => [a.attempt, a.state])).toEqual([
      [1, 'not_achieved'],
      [2, 'not_achieved'],
    ]);
    expect(row!.attempts?.every((a) => a.callId?.startsWith('cl_'))).toBe(true);
    // Its number's cap (2 in 24 h in this suite) is full: a single call now is refused, not sent.
    const third = await call(number);
    expect(!third.ok && third.failure.type).toBe(FailureType.FrequencyCapped);
    expect(posts(number)).toHaveLength(2);
  }, 180_000);
});

describe('a campaign on PostgreSQL while PostgreSQL restarts', () => {
  it('loses no target, calls none twice and keeps every contact, though its creates found the store down', async () => {
    const store = await openContactStore({ databaseUrl: await postgres.createDatabase() });
    const policy = parseContactPolicy(
      { hours: { campaigns: false }, caps: { perNumber: { limit: 1, window: '24h' } } },
      'one call a day',
    );
    const taskQueue = uniqueTaskQueue('contact-pg-restart');
    // Without the gate: the create's own record of "nothing sent" is all that lets its retry send.
    const worker = await workerWith(taskQueue, store, policy);
    const numbers = Array.from({ length: 6 }, (_, i) => `+1415555033${i}`);
    try {
      await worker.runUntil(async () => {
        const handle = await env.client.workflow.start(callCampaignWorkflow, {
          taskQueue,
          workflowId: uniqueId('campaign-pg-restart'),
          args: [
            {
              name: 'Through a restart',
              targets: numbers.map((toPhoneNumber) => ({ toPhoneNumber, objective: 'Ask' })),
              maxConcurrentCalls: 3,
              timing,
            },
          ],
        });
        await waitForProgress(handle, (p) => p.state === 'awaiting_approval', 60_000);
        await postgres.restart(async () => {
          await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'ops' }] });
          // Long enough for the first creates to find the store down and back off.
          await new Promise((resolve) => setTimeout(resolve, 5_000));
          expect(sim.requests().filter((r) => r.method === 'POST' && numbers.includes(r.toPhoneNumber!))).toEqual([]);
        });
        const report = (await handle.result()) as CampaignProgress;
        expect(report.counts).toMatchObject({ achieved: 6, failed: 0, unknown: 0, skipped: 0 });
        for (const number of numbers) expect(posts(number)).toHaveLength(1);
        // Every contact was recorded through the restart: the cap of one a day holds for each number.
        const { handle: again } = await startCall(
          env.client,
          { toPhoneNumber: numbers[0]!, objective: 'Ask', timing },
          { taskQueue, workflowId: uniqueId('call') },
        );
        const failure = await again.result().then(
          () => undefined,
          (error: unknown) => failureOf(error),
        );
        expect(failure?.type).toBe(FailureType.FrequencyCapped);
        expect(posts(numbers[0]!)).toHaveLength(1);
      });
    } finally {
      await store.close();
    }
  }, 240_000);

  it('fails a call ContactStoreUnavailable, sending nothing, when the store stays down through every retry', async () => {
    const store = await openContactStore({ databaseUrl: await postgres.createDatabase() });
    const taskQueue = uniqueTaskQueue('contact-pg-down');
    const worker = await workerWith(taskQueue, store, parseContactPolicy({}, 'defaults'));
    const number = '+14155550340';
    try {
      await worker.runUntil(() =>
        postgres.restart(async () => {
          const { handle } = await startCall(
            env.client,
            { toPhoneNumber: number, objective: 'Ask', timing },
            { taskQueue, workflowId: uniqueId('call') },
          );
          const failure = await handle.result().then(
            () => undefined,
            (error: unknown) => failureOf(error),
          );
          expect(failure).toMatchObject({ type: FailureType.ContactStoreUnavailable, known: true });
          expect(failure?.message).toMatch(/^The contact store could not check the call \(\w+ ECONNREFUSED\)/);
          expect(posts(number)).toEqual([]);
        }),
      );
    } finally {
      await store.close();
    }
  }, 240_000);
});
