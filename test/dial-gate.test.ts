import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateWorkflowId } from '../src/activities/dial-gate-client';
import { createAgentPhoneClient } from '../src/agentphone';
import { keyFingerprint } from '../src/agentphone/client';
import { startCall } from '../src/calls';
import { magicNumbers, type Simulator, startSimulator } from '../src/simulator';
import { type CallWorker, createCallWorker } from '../src/worker';
import { callCampaignWorkflow } from '../src/workflows';
import type { CampaignProgress } from '../src/shared/campaign-types';
import type { CallResult } from '../src/shared/call-types';
import { inState, maxInAnyWindow, waitForProgress } from './helpers/campaign';
import { createDevServerEnv, recordHistory, uniqueId, uniqueTaskQueue, workflowBundle } from './helpers/temporal';
import { approveCampaignUpdate, callStateQuery } from '../src/shared/messages';
import { dialGateQuery } from '../src/shared/dial-gate';

// One API key, one ceiling: campaigns and single calls from any workflow share the key's dial gate. On a dev
// server, since the API's window is wall-clock time; the ceiling is scaled to 5 creates per 2 s.

const ceiling = { count: 5, windowMs: 2_000 };
const timing = { pollInterval: '200ms', enrichmentInterval: '50ms', rateLimitWait: '2s' };
let env: TestWorkflowEnvironment;
let sim: Simulator;
let worker: CallWorker;
let running: Promise<void>;
const taskQueue = uniqueTaskQueue('gate');
const gateQueue = uniqueTaskQueue('gate-queue');

beforeAll(async () => {
  [env, sim] = await Promise.all([
    createDevServerEnv(),
    startSimulator({
      progress: 'polls',
      credits: Number.POSITIVE_INFINITY,
      rateLimit: { limit: ceiling.count, windowMs: ceiling.windowMs },
    }),
  ]);
  worker = await createCallWorker({
    connection: env.nativeConnection,
    taskQueue,
    agentPhone: createAgentPhoneClient({ apiKey: sim.apiKey, baseUrl: sim.baseUrl }),
    rateLimit: ceiling,
    gate: { taskQueue: gateQueue },
    searchAttributes: false,
    worker: { workflowBundle: await workflowBundle() },
  });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await sim?.close();
  await env?.teardown();
});

const accepted = () => sim.requests().filter((r) => r.method === 'POST' && r.status === 202);
const refused429 = () => sim.requests().filter((r) => r.method === 'POST' && r.status === 429);
const numbers = (n: number, first: number) =>
  Array.from({ length: n }, (_, i) => ({
    toPhoneNumber: `+1415${String(first + i).padStart(7, '0')}`,
    objective: 'Ask about hours',
  }));
const gate = () =>
  env.client.workflow.getHandle(gateWorkflowId(createAgentPhoneClient({ apiKey: sim.apiKey }).keyFingerprint!));

describe('the dial gate of one API key', () => {
  it(
    'holds two campaigns and single calls together to the key’s ceiling, with no 429 and singles first',
    { timeout: 120_000 },
    async () => {
      sim.reset();
      const start = (name: string, first: number) =>
        env.client.workflow.start(callCampaignWorkflow, {
          taskQueue,
          workflowId: uniqueId(name),
          args: [
            {
              name,
              targets: numbers(12, first),
              callsPerMinute: ceiling.count,
              maxConcurrentCalls: 5,
              timing: { ...timing, rateWindow: '2s' },
            },
          ],
        });
      const [a, b] = await Promise.all([start('gate-a', 3_000_000), start('gate-b', 3_100_000)]);
      await Promise.all([a, b].map((h) => waitForProgress(h, inState('awaiting_approval'), 30_000)));
      await Promise.all([a, b].map((h) => h.executeUpdate(approveCampaignUpdate, { args: [{ by: 'ops' }] })));

      // A backend starts a single call now and then while both campaigns dial.
      const singles: Promise<CallResult>[] = [];
      let lastSingle: Awaited<ReturnType<typeof startCall>>['handle'] | undefined;
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 1_500));
        const { handle } = await startCall(
          env.client,
          { toPhoneNumber: `+1415320${String(i).padStart(4, '0')}`, objective: 'x', timing },
          { taskQueue },
        );
        singles.push(handle.result());
        lastSingle = handle;
      }
      const [pa, pb] = (await Promise.all([a.result(), b.result()])) as CampaignProgress[];
      const results = await Promise.all(singles);

      expect(pa!.counts.achieved + pb!.counts.achieved).toBe(24);
      expect(results.every((r) => r.outcome === 'achieved')).toBe(true);
      const t0 = sim.requests()[0]!.at;
      console.log(
        sim
          .requests()
          .filter((r) => r.method === 'POST')
          .map((r) => `${r.at - t0}:${r.status}`)
          .join(' '),
      );
      expect(refused429()).toEqual([]);
      expect(
        maxInAnyWindow(
          accepted().map((r) => r.at),
          ceiling.windowMs,
        ),
      ).toBeLessThanOrEqual(ceiling.count);
      // Single calls go first: none waited more than one window for its slot.
      for (const r of results) expect(r.waitedForSlotMs ?? 0).toBeLessThanOrEqual(ceiling.windowMs + 500);
      expect(pa!.dialGate).toMatchObject({ share: 1 });
      const snapshot = await gate().query(dialGateQuery);
      expect(snapshot.campaigns[pa!.campaignId]).toMatchObject({ granted: 12 });
      expect(snapshot.campaigns[pb!.campaignId]).toMatchObject({ granted: 12 });
      // Nobody polled: each waiting activity was completed by the gate, which handed over the offers itself.
      const scheduled = (events: Awaited<ReturnType<ReturnType<typeof gate>['fetchHistory']>>['events']) =>
        (events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
      expect(scheduled((await gate().fetchHistory()).events)).toContain('deliverDialOffers');
      const waits = (await lastSingle!.fetchHistory()).events!.filter(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'waitForDialSlot',
      );
      expect(waits.map((e) => Number(e.activityTaskScheduledEventAttributes!.heartbeatTimeout?.seconds ?? 0))).toEqual([
        0,
      ]);
      await recordHistory(a, 'gate-campaign-handed-over');
      await recordHistory(lastSingle!, 'gate-single-call-handed-over');
      await recordHistory(gate(), 'dial-gate-handed-over');
    },
  );

  it('shows a call waiting for its slot as waiting_for_slot', { timeout: 60_000 }, async () => {
    sim.reset();
    const handles = await Promise.all(
      Array.from({ length: ceiling.count + 3 }, (_, i) =>
        startCall(
          env.client,
          { toPhoneNumber: `+1415330${String(i).padStart(4, '0')}`, objective: 'x', timing },
          { taskQueue },
        ).then((s) => s.handle),
      ),
    );
    const phases = new Set<string>();
    const done = Promise.all(handles.map((h) => h.result()));
    let finished = false;
    void done.finally(() => (finished = true));
    while (!finished) {
      for (const h of handles) phases.add((await h.query(callStateQuery).catch(() => undefined))?.phase ?? '');
      await new Promise((r) => setTimeout(r, 50));
    }
    await done;
    expect(phases).toContain('waiting_for_slot');
    await recordHistory(handles.at(-1)!, 'gate-waited-for-slot-handed-over');
    expect(
      maxInAnyWindow(
        accepted().map((r) => r.at),
        ceiling.windowMs,
      ),
    ).toBeLessThanOrEqual(ceiling.count);
  });

  it(
    'after a 429 from someone else on the key, holds every dialer for Retry-After; the call keeps the contract’s one retry',
    { timeout: 60_000 },
    async () => {
      sim.reset();
      const limited = await startCall(
        env.client,
        { toPhoneNumber: magicNumbers.rateLimitedOnce, objective: 'x', timing },
        { taskQueue },
      );
      await expect.poll(() => refused429().length, { timeout: 10_000 }).toBe(1);
      const refusedAt = refused429()[0]!.at;
      const other = await startCall(
        env.client,
        { toPhoneNumber: '+14153400001', objective: 'x', timing },
        { taskQueue },
      );
      const [first, second] = await Promise.all([limited.handle.result(), other.handle.result()]);
      expect(first.outcome).toBe('achieved');
      expect(second.outcome).toBe('achieved');
      const otherCreate = accepted().find((r) => r.toPhoneNumber === '+14153400001')!;
      // The simulator's Retry-After is its window: 2 s.
      expect(otherCreate.at - refusedAt).toBeGreaterThanOrEqual(ceiling.windowMs - 50);
      expect((await gate().query(dialGateQuery)).totals.rateLimited).toBeGreaterThanOrEqual(1);
      await recordHistory(limited.handle, 'gate-rate-limited-once-handed-over');
    },
  );

  it('shares the key’s gate with a worker whose client is the user’s own, named by gate.keyFingerprint', async () => {
    const { keyFingerprint: _made, ...own } = createAgentPhoneClient({ apiKey: sim.apiKey, baseUrl: sim.baseUrl });
    const base = {
      connection: env.nativeConnection,
      taskQueue: uniqueTaskQueue('own-client'),
      agentPhone: own,
      rateLimit: ceiling,
      searchAttributes: false,
      worker: { workflowBundle: await workflowBundle() },
    };
    await expect(createCallWorker({ ...base, gate: { taskQueue: uniqueTaskQueue('own-gate') } })).rejects.toThrow(
      /gate: \{ keyFingerprint: keyFingerprint\(apiKey\) \}/,
    );
    const second = await createCallWorker({
      ...base,
      gate: { taskQueue: uniqueTaskQueue('own-gate'), keyFingerprint: keyFingerprint(sim.apiKey) },
    });
    const claims = async () =>
      (
        await gate()
          .query(dialGateQuery)
          .catch(() => undefined)
      )?.totals.claims ?? 0;
    const before = await claims();
    const result = await second.runUntil(async () => {
      const { handle } = await startCall(
        env.client,
        { toPhoneNumber: '+14153299999', objective: 'x', timing },
        { taskQueue: base.taskQueue },
      );
      return handle.result();
    });
    expect(result.outcome).toBe('achieved');
    expect(await claims()).toBe(before + 1);
  });
});
