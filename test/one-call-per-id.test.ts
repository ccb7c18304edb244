import { randomUUID } from 'node:crypto';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities';
import { createAgentPhoneClient } from '../src/agentphone';
import { FailureType } from '../src/shared/failures';
import { magicNumbers, type Simulator, startSimulator } from '../src/simulator';
import type { CallResult, PlaceCallInput } from '../src/shared/call-types';
import {
  createDevServerEnv,
  historyOf,
  recordHistory,
  uniqueId,
  uniqueTaskQueue,
  workflowBundle,
} from './helpers/temporal';
import { failureOf } from './helpers/failures';

// One workflow id, one call, however the id is started: again over a closed run with the default reuse policy (as
// the `temporal` CLI and every other SDK do), or by `temporal workflow reset`. On a real dev server: the lookup
// needs the visibility store that the time-skipping server lacks.

let env: TestWorkflowEnvironment;
let sim: Simulator;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueTaskQueue('one-call');
const timing = { pollInterval: '200ms', enrichmentInterval: '50ms' };

beforeAll(async () => {
  [env, sim] = await Promise.all([createDevServerEnv(), startSimulator({ progress: 'polls', credits: 1_000 })]);
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ client: createAgentPhoneClient({ apiKey: sim.apiKey, baseUrl: sim.baseUrl }) }),
  });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await sim?.close();
  await env?.teardown();
});

beforeEach(() => sim.reset());

const creates = () => sim.requests().filter((r) => r.method === 'POST').length;

/** A start by type name with the server's default reuse policy (ALLOW_DUPLICATE), as any client in any language. */
function startRaw(workflowId: string, input: PlaceCallInput) {
  return env.client.workflow.start('placeCallWorkflow', {
    taskQueue,
    workflowId,
    args: [input],
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
  });
}

/** Resets a run to the end of its first workflow task, as `temporal workflow reset --type FirstWorkflowTask` does. */
async function resetToFirstTask(workflowId: string, runId: string): Promise<string> {
  const events = await historyOf(env.client.workflow.getHandle(workflowId, runId));
  const firstTask = events.find((e) => e.workflowTaskCompletedEventAttributes);
  const { runId: newRunId } = await env.client.workflowService.resetWorkflowExecution({
    namespace: 'default',
    workflowExecution: { workflowId, runId },
    workflowTaskFinishEventId: firstTask!.eventId,
    requestId: randomUUID(),
    reason: 'test: reset of a call',
  });
  return newRunId!;
}

describe('one workflow id places one call', () => {
  it('a closed call started again with the default reuse policy returns the earlier result and dials nobody', async () => {
    const id = uniqueId('again');
    const first = await startRaw(id, { toPhoneNumber: magicNumbers.achieved, objective: 'Ask about hours', timing });
    const result = (await first.result()) as CallResult;
    expect(creates()).toBe(1);

    const second = await startRaw(id, { toPhoneNumber: magicNumbers.achieved, objective: 'Ask about hours', timing });
    expect(second.firstExecutionRunId).not.toBe(first.firstExecutionRunId);
    const again = (await second.result()) as CallResult;
    expect(again).toMatchObject({
      callId: result.callId,
      outcome: result.outcome,
      earlierRunId: first.firstExecutionRunId,
    });
    expect(creates()).toBe(1);
    await recordHistory(second, 'again-earlier-result');
  });

  it('a reset of a completed call to its first workflow task never creates again', async () => {
    const id = uniqueId('reset-done');
    const first = await startRaw(id, { toPhoneNumber: magicNumbers.achieved, objective: 'Ask about hours', timing });
    const result = (await first.result()) as CallResult;
    const newRunId = await resetToFirstTask(id, first.firstExecutionRunId);
    const after = (await env.client.workflow.getHandle(id, newRunId).result()) as CallResult;
    expect(after.callId).toBe(result.callId);
    expect(creates()).toBe(1);
  });

  it('a reset of a call in progress follows the same call to its end instead of dialing again', async () => {
    const id = uniqueId('reset-live');
    const first = await startRaw(id, {
      toPhoneNumber: magicNumbers.achieved,
      objective: 'Ask about hours',
      timing: { pollInterval: '2s' },
    });
    // The create happened; the call is being polled when the operator resets the workflow.
    for (let i = 0; i < 100 && creates() === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(creates()).toBe(1);
    const newRunId = await resetToFirstTask(id, first.firstExecutionRunId);
    const after = (await env.client.workflow.getHandle(id, newRunId).result()) as CallResult;
    expect(after.callId).toBe(sim.calls()[0]!.callId);
    expect(after.outcome).toBe('achieved');
    expect(creates()).toBe(1);
    await recordHistory(env.client.workflow.getHandle(id, newRunId), 'reset-followed-call');
  });

  it('after a run whose create may have reached the API, a new run fails CallOutcomeUnknown and never sends', async () => {
    const id = uniqueId('in-flight');
    sim.holdCreates(60_000);
    const first = await startRaw(id, { toPhoneNumber: magicNumbers.achieved, objective: 'Ask about hours', timing });
    // The simulator created the call and holds its answer.
    for (let i = 0; i < 100 && sim.calls().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(sim.calls()).toHaveLength(1);
    // Gone with its create unanswered: a crash of everything, or an operator's terminate.
    await first.terminate('test: lost while the create was in flight');
    sim.releaseCreates();

    const second = await startRaw(id, { toPhoneNumber: magicNumbers.achieved, objective: 'Ask about hours', timing });
    const failure = await failureOf(second.result());
    expect(failure.type).toBe(FailureType.CallOutcomeUnknown);
    expect(failure.details?.[0]).toMatchObject({ earlierRunId: first.firstExecutionRunId });
    await recordHistory(second, 'earlier-create-unknown');
    expect(sim.calls()).toHaveLength(1);
  });

  it('after a run the API refused (402), a new run of the same id may dial', async () => {
    const id = uniqueId('refused');
    sim.setCredits(0);
    const first = await startRaw(id, { toPhoneNumber: magicNumbers.achieved, objective: 'Ask about hours', timing });
    expect((await failureOf(first.result())).type).toBe(FailureType.InsufficientCredits);
    sim.setCredits(5);
    const second = await startRaw(id, { toPhoneNumber: magicNumbers.achieved, objective: 'Ask about hours', timing });
    const result = (await second.result()) as CallResult;
    expect(result.earlierRunId).toBeUndefined();
    expect(sim.calls()).toHaveLength(1);
    expect(creates()).toBe(2);
  });

  it('finds the earlier run of an id that holds quotes and backslashes', async () => {
    const id = `odd 'id' \\ "x" ${randomUUID()}`;
    const first = await startRaw(id, { toPhoneNumber: magicNumbers.achieved, objective: 'Ask about hours', timing });
    const result = (await first.result()) as CallResult;
    const again = (await (
      await startRaw(id, { toPhoneNumber: magicNumbers.achieved, objective: 'x', timing })
    ).result()) as CallResult;
    expect(again.callId).toBe(result.callId);
    expect(creates()).toBe(1);
  });
});
