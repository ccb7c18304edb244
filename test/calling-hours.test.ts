import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities';
import { createAgentPhoneClient } from '../src/agentphone';
import { callingHoursFor } from '../src/policy';
import type { PlaceCallInput } from '../src/shared/call-types';
import { windowStatus } from '../src/shared/calling-window';
import { failureOf, FailureType } from '../src/shared/failures';
import { callStateQuery } from '../src/shared/messages';
import { type Simulator, startSimulator } from '../src/simulator';
import { placeCallWorkflow } from '../src/workflows';
import {
  createTimeSkippingEnv,
  historyOf,
  timerDurations,
  uniqueId,
  uniqueTaskQueue,
  workflowBundle,
} from './helpers/temporal';

// `callingHours: 'recipient'` on the time-skipping server: a single call waits on a Temporal timer for the
// recipient's local calling hours (the contact policy's, by its number), and a number whose zone is unknown is
// never dialed blind.

let env: TestWorkflowEnvironment;
let sim: Simulator;

beforeAll(async () => {
  [env, sim] = await Promise.all([
    createTimeSkippingEnv(),
    startSimulator({ apiKey: 'sk_test_calling_hours', progress: 'polls', credits: Number.POSITIVE_INFINITY }),
  ]);
});

afterAll(async () => {
  await sim?.close();
  await env?.teardown();
});

beforeEach(() => sim.reset());

// Eight hours and more apart, so that at any instant one of them is outside 08:00–21:00 and one inside.
const numbers = ['+14155550402', '+442071838750', '+61292501234'];

async function hoursNow(): Promise<{ closed: string; open: string; now: number }> {
  const now = await env.currentTimeMs();
  const statusOf = (n: string) => {
    const hours = callingHoursFor(n);
    if (hours.zone.kind !== 'known') throw new Error(`${n} has no known zone`);
    return windowStatus(hours.zone.zone, hours, now).open;
  };
  const closed = numbers.find((n) => !statusOf(n));
  const open = numbers.find((n) => statusOf(n));
  if (!closed || !open) throw new Error('the three zones are always split between open and closed');
  return { closed, open, now };
}

async function run(input: Partial<PlaceCallInput>, whileRunning?: (id: string) => Promise<void>) {
  const taskQueue = uniqueTaskQueue('calling-hours');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ client: createAgentPhoneClient({ apiKey: sim.apiKey, baseUrl: sim.baseUrl }) }),
  });
  const handle = await env.client.workflow.start(placeCallWorkflow, {
    args: [{ objective: 'Ask about opening hours', timing: { pollInterval: '1s' }, ...input } as PlaceCallInput],
    taskQueue,
    workflowId: uniqueId('hours'),
  });
  return worker.runUntil(async () => {
    await whileRunning?.(handle.workflowId);
    const ended = await handle.result().then(
      (result) => ({ result, failure: undefined }),
      (error: unknown) => ({ result: undefined, failure: failureOf(error) }),
    );
    return { ...ended, events: await historyOf(handle), handle };
  });
}

const posts = (number: string) => sim.requests().filter((r) => r.method === 'POST' && r.toPhoneNumber === number);

describe("callingHours: 'recipient'", () => {
  it("holds a call outside the recipient's hours on a timer until they open, shows why, then dials once", async () => {
    const { closed, now } = await hoursNow();
    const hours = callingHoursFor(closed);
    const opensAt = windowStatus((hours.zone as { zone: string }).zone, hours, now).changesAt;
    let held: unknown;
    const { result, events } = await run({ toPhoneNumber: closed, callingHours: 'recipient' }, async (id) => {
      const handle = env.client.workflow.getHandle(id);
      for (let i = 0; i < 100; i++) {
        const state = await handle.query(callStateQuery);
        if (state.phase === 'waiting_for_hours') {
          held = state.heldForHours;
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    expect(held).toMatchObject({ hours: expect.stringContaining(`${hours.start}–${hours.end}`) });
    expect(Date.parse((held as { until: string }).until)).toBeCloseTo(opensAt, -4);
    expect(result?.status).toBe('completed');
    const [wait] = timerDurations(events);
    expect(wait).toBeGreaterThan(opensAt - now - 60_000);
    expect(wait).toBeLessThanOrEqual(opensAt - now + 60_000);
    const [summary] = events.flatMap((e) =>
      e.timerStartedEventAttributes ? [Buffer.from(e.userMetadata?.summary?.data ?? []).toString()] : [],
    );
    expect(summary).toContain("outside the recipient's calling hours");
    expect(posts(closed)).toHaveLength(1);
  });

  it('dials at once within the hours, with no timer before the create', async () => {
    const { open } = await hoursNow();
    const { result, events } = await run({ toPhoneNumber: open, callingHours: 'recipient' });
    expect(result?.status).toBe('completed');
    const firstTimer = events.findIndex((e) => e.timerStartedEventAttributes);
    const create = events.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'createCall');
    expect(create).toBeGreaterThan(0);
    expect(firstTimer === -1 || firstTimer > create).toBe(true);
  });

  it('fails CallingHoursUnknown, sending nothing, for a number whose prefix spans two zones', async () => {
    const number = '+12083301234';
    const { failure } = await run({ toPhoneNumber: number, callingHours: 'recipient' });
    expect(failure?.type).toBe(FailureType.CallingHoursUnknown);
    expect(failure?.message).toContain('spans America/Boise and America/Los_Angeles');
    expect(posts(number)).toHaveLength(0);
  });

  it('refuses any other value of callingHours as InvalidInput before anything is sent', async () => {
    const { failure } = await run({ toPhoneNumber: numbers[0]!, callingHours: 'always' as never });
    expect(failure).toMatchObject({ type: FailureType.InvalidInput, details: [{ field: 'callingHours' }] });
    expect(sim.requests()).toHaveLength(0);
  });
});
