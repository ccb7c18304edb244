import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities';
import { createAgentPhoneClient } from '../src/agentphone';
import { magicNumbers, type Simulator, startSimulator } from '../src/simulator';
import { callCampaignWorkflow } from '../src/workflows';
import type { CampaignInput } from '../src/shared/campaign-types';
import { windowStatus } from '../src/shared/calling-window';
import { type CampaignHandle, inState, maxInAnyWindow, waitForProgress } from './helpers/campaign';
import { createTimeSkippingEnv, historyOf, recordHistory, uniqueId, workflowBundle } from './helpers/temporal';
import {
  approveCampaignUpdate,
  campaignProgressQuery,
  cancelCampaignUpdate,
  pauseCampaignUpdate,
  rejectCampaignUpdate,
  resumeCampaignUpdate,
} from '../src/shared/messages';
import { type CampaignTarget } from '../src/shared/targets';

const apiKey = 'sk_campaign_SECRET_77aa';
let env: TestWorkflowEnvironment;
let sim: Simulator;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `campaign-${Date.now()}`;

beforeAll(async () => {
  [env, sim] = await Promise.all([
    createTimeSkippingEnv(),
    // The campaign's own pacer is under test here, not the simulator's limit (its clock does not skip).
    startSimulator({
      apiKey,
      progress: 'polls',
      credits: Number.POSITIVE_INFINITY,
      rateLimit: { limit: 100_000, windowMs: 60_000 },
    }),
  ]);
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ client: createAgentPhoneClient({ apiKey, baseUrl: sim.baseUrl }) }),
    maxConcurrentActivityTaskExecutions: 50,
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await sim?.close();
  await env?.teardown();
});

beforeEach(() => {
  sim.reset();
  sim.setCredits(Number.POSITIVE_INFINITY);
});

/** Numbers from the simulator's block that end `achieved` (any non-magic valid number does). */
const numbers = (n: number, first = 200) =>
  Array.from({ length: n }, (_, i) => `+1415555${String(first + i).padStart(4, '0')}`);
const targets = (phones: string[], extra: Partial<CampaignTarget> = {}): CampaignTarget[] =>
  phones.map((toPhoneNumber) => ({ toPhoneNumber, objective: 'Ask about opening hours', ...extra }));

async function start(input: Partial<CampaignInput>, id = uniqueId('campaign')): Promise<CampaignHandle> {
  return env.client.workflow.start(callCampaignWorkflow, {
    taskQueue,
    workflowId: id,
    args: [{ name: 'Test campaign', ...input } as CampaignInput],
  });
}

/** Calls the simulator created (an idempotent replay of a create is not a new call). */
const created = () => sim.stats().creates;
/** Short polls for tests that watch a campaign mid-run in real time. */
const quick = { pollInterval: '100ms' } as const;

describe('callCampaignWorkflow', () => {
  it('validates, waits for approval, dials every valid target once and reports the outcomes', async () => {
    const list = [
      ...targets(numbers(3)),
      { toPhoneNumber: magicNumbers.partial, objective: 'x' },
      { toPhoneNumber: magicNumbers.failed, objective: 'x' },
      { toPhoneNumber: '911', objective: 'x' },
      { toPhoneNumber: numbers(1)[0]!, objective: 'duplicate' },
    ];
    const handle = await start({ targets: list });
    const preview = await waitForProgress(handle, inState('awaiting_approval'));
    expect(preview.validation).toMatchObject({
      rows: 7,
      valid: 5,
      refused: 2,
      refusedByReason: { ForbiddenNumber: 1, Duplicate: 1 },
    });
    expect(preview.validation?.refusals.map((r) => [r.index, r.reason])).toEqual([
      [5, 'ForbiddenNumber'],
      [6, 'Duplicate'],
    ]);
    expect(preview.creditsNeeded).toBe(5);
    expect(sim.requests()).toHaveLength(0);

    const approved = await handle.executeUpdate(approveCampaignUpdate, {
      args: [{ by: 'ops-lead', comment: 'looks fine' }],
    });
    expect(approved.state).toBe('running');
    const report = await handle.result();
    expect(report.state).toBe('completed');
    expect(report.counts).toMatchObject({ achieved: 3, partial: 1, failed: 1, pending: 0, in_flight: 0 });
    expect(report.failedByType).toEqual({ CallFailed: 1 });
    expect(report.decisions).toEqual([
      expect.objectContaining({ action: 'approve', by: 'ops-lead', comment: 'looks fine' }),
    ]);
    expect(created()).toBe(5);
    const child = env.client.workflow.getHandle(`${handle.workflowId}/item-0`);
    expect((await child.result()).outcome).toBe('achieved');
    await recordHistory(handle, 'campaign-completed');
  });

  it('ends rejected on rejection, having dialed nobody', async () => {
    const handle = await start({ targets: targets(numbers(3)) });
    await waitForProgress(handle, inState('awaiting_approval'));
    await handle.executeUpdate(rejectCampaignUpdate, { args: [{ by: 'ops-lead', reason: 'wrong list' }] });
    const report = await handle.result();
    expect(report.state).toBe('rejected');
    expect(report.counts.skipped).toBe(3);
    expect(report.skippedByReason).toEqual({ rejected: 3 });
    expect(sim.requests()).toHaveLength(0);
  });

  it('expires after the approval timeout with nobody dialed', async () => {
    const handle = await start({ targets: targets(numbers(2)), approval: { timeout: '2h' } });
    const report = await handle.result();
    expect(report.state).toBe('expired');
    expect(report.decisions.at(-1)).toMatchObject({ action: 'expire', by: 'system' });
    const timers = (await historyOf(handle)).filter((e) => e.timerStartedEventAttributes);
    expect(Number(timers[0]?.timerStartedEventAttributes?.startToFireTimeout?.seconds)).toBe(7200);
    expect(sim.requests()).toHaveLength(0);
  });

  it('refuses, without recording them, decisions with no name, by a non-approver, or in the wrong state', async () => {
    const handle = await start({ targets: targets(numbers(1)), approval: { approvers: ['alice'] } });
    await waitForProgress(handle, inState('awaiting_approval'));
    const refused = async (update: Promise<unknown>, message: RegExp) => {
      const error = await update.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(String((error as WorkflowUpdateFailedError).cause?.message)).toMatch(message);
    };
    await refused(handle.executeUpdate(approveCampaignUpdate, { args: [{ by: '' }] }), /`by` is required/);
    await refused(handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'mallory' }] }), /not an approver/);
    await refused(
      handle.executeUpdate(pauseCampaignUpdate, { args: [{ by: 'alice' }] }),
      /cannot pause a campaign that is awaiting_approval/,
    );
    await refused(
      handle.executeUpdate(rejectCampaignUpdate, { args: [{ by: 'alice', reason: ' ' }] }),
      /needs a reason/,
    );
    const events = await historyOf(handle);
    expect(events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toHaveLength(0);
    await handle.executeUpdate(cancelCampaignUpdate, { args: [{ by: 'alice' }] });
    expect((await handle.result()).state).toBe('canceled');
  });

  it('stops after the pilot calls for a second approval, with their outcomes, then finishes', async () => {
    const handle = await start({ targets: targets(numbers(5)), pilotCalls: 2, maxConcurrentCalls: 5, timing: quick });
    await waitForProgress(handle, inState('awaiting_approval'));
    await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'ops' }] });
    const gate = await waitForProgress(handle, (p) => p.state === 'awaiting_approval' && p.gate === 'pilot', 60_000);
    expect(gate.counts).toMatchObject({ achieved: 2, pending: 3 });
    expect(gate.pilot).toMatchObject({ calls: 2, counts: { achieved: 2 } });
    expect(created()).toBe(2);
    await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'ops', comment: 'pilot ok' }] });
    const report = await handle.result();
    expect(report.counts.achieved).toBe(5);
    expect(created()).toBe(5);
    expect(report.decisions.map((d) => d.action)).toEqual(['approve', 'approve']);
    await recordHistory(handle, 'campaign-pilot');
  });

  it('pauses when the credits run out (402), dials nothing more, and resumes after a top-up', async () => {
    sim.setCredits(0);
    const handle = await start({ targets: targets(numbers(3)), maxConcurrentCalls: 1 });
    await waitForProgress(handle, inState('awaiting_approval'));
    await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'ops' }] });
    const paused = await waitForProgress(handle, inState('paused'), 60_000);
    expect(paused.pauseReason).toBe('insufficient_credits');
    expect(paused.counts.pending).toBe(3);
    const refusedCreates = sim.requests().filter((r) => r.method === 'POST').length;
    expect(refusedCreates).toBe(1);
    sim.setCredits(10);
    await handle.executeUpdate(resumeCampaignUpdate, { args: [{ by: 'ops' }] });
    const report = await handle.result();
    expect(report.counts.achieved).toBe(3);
    expect(created()).toBe(3);
    // The refused target is dialed again under a new attempt id: no call existed under the first.
    await expect(env.client.workflow.getHandle(`${handle.workflowId}/item-0/r2`).result()).resolves.toMatchObject({
      outcome: 'achieved',
    });
    await recordHistory(handle, 'campaign-credits-paused');
  });

  it('pauses itself when credits_remaining reaches 0 after a call', async () => {
    sim.setCredits(2);
    const handle = await start({ targets: targets(numbers(4)), maxConcurrentCalls: 1, timing: quick });
    await waitForProgress(handle, inState('awaiting_approval'));
    await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'ops' }] });
    const paused = await waitForProgress(handle, inState('paused'), 60_000);
    expect(paused).toMatchObject({ pauseReason: 'insufficient_credits', creditsRemaining: 0 });
    expect(paused.counts).toMatchObject({ achieved: 2, pending: 2 });
    expect(created()).toBe(2);
    await handle.executeUpdate(cancelCampaignUpdate, { args: [{ by: 'ops', reason: 'budget' }] });
    const report = await handle.result();
    expect(report).toMatchObject({ state: 'canceled', skippedByReason: { canceled: 2 } });
  });

  it('lets an operator pause and resume; nothing is dialed while paused', async () => {
    const list = [{ toPhoneNumber: magicNumbers.neverEnds, objective: 'x' }, ...targets(numbers(3))];
    const handle = await start({ targets: list, maxConcurrentCalls: 1 });
    await waitForProgress(handle, inState('awaiting_approval'));
    await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'ops' }] });
    const paused = await handle.executeUpdate(pauseCampaignUpdate, { args: [{ by: 'ops', reason: 'lunch' }] });
    expect(paused).toMatchObject({ state: 'paused', pauseReason: 'operator', counts: { in_flight: 1, pending: 3 } });
    await new Promise((r) => setTimeout(r, 1000));
    expect(created()).toBe(1);
    expect((await handle.query(campaignProgressQuery)).counts.pending).toBe(3);
    await handle.executeUpdate(resumeCampaignUpdate, { args: [{ by: 'ops' }] });
    const report = await handle.result();
    expect(report.counts).toMatchObject({ timed_out: 1, achieved: 3 });
    expect(report.decisions.map((d) => `${d.action}:${d.by}`)).toEqual(['approve:ops', 'pause:ops', 'resume:ops']);
    await recordHistory(handle, 'campaign-pause-resume');
  });

  it('on cancel dials nothing new and reports the calls in flight as they finish', async () => {
    const list = [{ toPhoneNumber: magicNumbers.neverEnds, objective: 'x' }, ...targets(numbers(3))];
    const handle = await start({
      targets: list,
      maxConcurrentCalls: 1,
      timing: { pollInterval: '200ms', callTimeout: '3s' },
    });
    await waitForProgress(handle, inState('awaiting_approval'));
    await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'ops' }] });
    await waitForProgress(handle, (p) => p.counts.in_flight === 1);
    const canceled = await handle.executeUpdate(cancelCampaignUpdate, {
      args: [{ by: 'ops', reason: 'wrong script' }],
    });
    expect(canceled.state).toBe('canceled');
    const report = await handle.result();
    expect(report.counts).toMatchObject({ timed_out: 1, skipped: 3 });
    expect(report.skippedByReason).toEqual({ canceled: 3 });
    expect(created()).toBe(1);
  });

  it('dials nobody twice when the campaign is started again with the same id', async () => {
    const id = uniqueId('campaign-again');
    const first = await start({ targets: targets(numbers(3)) }, id);
    await waitForProgress(first, inState('awaiting_approval'));
    await first.executeUpdate(approveCampaignUpdate, { args: [{ by: 'ops' }] });
    await first.result();
    expect(created()).toBe(3);

    const second = await start({ targets: targets(numbers(3)) }, id);
    await waitForProgress(second, inState('awaiting_approval'));
    await second.executeUpdate(approveCampaignUpdate, { args: [{ by: 'ops' }] });
    const report = await second.result();
    expect(report.counts.achieved).toBe(3);
    expect(created()).toBe(3);
  });

  it('never creates more than callsPerMinute calls in any 60 s window', async () => {
    const handle = await start({ targets: targets(numbers(25)), callsPerMinute: 10, maxConcurrentCalls: 10 });
    await waitForProgress(handle, inState('awaiting_approval'));
    await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'ops' }] });
    const report = await handle.result();
    expect(report.counts.achieved).toBe(25);
    // Creates as Temporal timed them (the simulator's wall clock does not skip): each child's createCall start.
    const times: number[] = [];
    for (let i = 0; i < 25; i++) {
      const events = await historyOf(env.client.workflow.getHandle(`${handle.workflowId}/item-${i}`));
      const started = events.find((e) => e.activityTaskStartedEventAttributes);
      times.push(Number(started?.eventTime?.seconds) * 1000 + Math.floor((started?.eventTime?.nanos ?? 0) / 1e6));
    }
    expect(maxInAnyWindow(times, 60_000)).toBeLessThanOrEqual(10);
    // And it runs at the ceiling, not far below it: 25 creates need just over two windows.
    const span = Math.max(...times) - Math.min(...times);
    expect(span).toBeGreaterThanOrEqual(120_000);
    expect(span).toBeLessThan(130_000);
  });

  it("creates no call outside the calling window in the recipient's zone (the row's, else its number's), and holds back targets with no zone", async () => {
    const now = await env.currentTimeMs();
    const hour = new Date(now).getUTCHours();
    const hh = (h: number) => `${String((h + 24) % 24).padStart(2, '0')}:00`;
    // Open now in UTC; closed now in UTC+12, where it opens about 10 hours later.
    const callingWindow = { start: hh(hour - 1), end: hh(hour + 2) };
    const list = [
      { toPhoneNumber: numbers(1, 300)[0]!, objective: 'x', timezone: 'Etc/GMT-12', id: 'far-east' },
      { toPhoneNumber: numbers(1, 301)[0]!, objective: 'x', timezone: 'Etc/UTC', id: 'here' },
      // No timezone: London's from its number (open now, as UTC is, in any season); +1 208 330 spans two zones.
      { toPhoneNumber: '+442071838750', objective: 'x', id: 'london' },
      { toPhoneNumber: '+12083301234', objective: 'x', id: 'nowhere' },
    ];
    const handle = await start({ targets: list, callingWindow });
    await waitForProgress(handle, inState('awaiting_approval'));
    await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'ops' }] });
    const report = await handle.result();
    expect(report.counts).toMatchObject({ achieved: 3, skipped: 1 });
    expect(report.skippedByReason).toEqual({ no_timezone: 1 });
    expect(created()).toBe(3);
    const startedAt = async (key: string) => {
      const events = await historyOf(env.client.workflow.getHandle(`${handle.workflowId}/${key}`));
      const created = events.find((e) => e.activityTaskStartedEventAttributes)?.eventTime;
      return Number(created?.seconds) * 1000;
    };
    const here = await startedAt('t-here');
    const farEast = await startedAt('t-far-east');
    expect(windowStatus('Etc/UTC', callingWindow, here).open).toBe(true);
    expect(windowStatus('Etc/GMT-12', callingWindow, farEast).open).toBe(true);
    expect(windowStatus('Etc/GMT-12', callingWindow, now).open).toBe(false);
    await recordHistory(handle, 'campaign-calling-window');
    expect(farEast - now).toBeGreaterThan(8 * 3600_000);
    expect((await startedAt('t-london')) - now).toBeLessThan(3600_000);
    await expect(env.client.workflow.getHandle(`${handle.workflowId}/t-nowhere`).describe()).rejects.toThrow();
  });

  it('slows down on a 429 from the API instead of failing, and gives a target up after 5 refusals', async () => {
    const list = [{ toPhoneNumber: magicNumbers.rateLimitedAlways, objective: 'x' }, ...targets(numbers(2))];
    const handle = await start({ targets: list, maxConcurrentCalls: 1 });
    await waitForProgress(handle, inState('awaiting_approval'));
    await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'ops' }] });
    const report = await handle.result();
    expect(report.state).toBe('completed');
    expect(report.counts).toMatchObject({ achieved: 2, failed: 1 });
    expect(report.failedByType).toEqual({ RateLimited: 1 });
    // 5 attempts of 2 creates each (the call's own 60 s retry), and a 60 s cool-down of the campaign after each.
    expect(sim.requests().filter((r) => r.method === 'POST' && r.status === 429)).toHaveLength(10);
    const coolDowns = (await historyOf(handle)).filter(
      (e) => e.timerStartedEventAttributes?.startToFireTimeout?.seconds,
    );
    expect(
      coolDowns.filter((e) => Number(e.timerStartedEventAttributes?.startToFireTimeout?.seconds) >= 59).length,
    ).toBeGreaterThanOrEqual(4);
  });
});
