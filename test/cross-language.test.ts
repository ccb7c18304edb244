import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensurePythonVenv } from '../scripts/python-venv';
import { createActivities } from '../src/activities';
import { createAgentPhoneClient } from '../src/agentphone';
import { findTemporalBinary } from '../src/dev/temporal-binaries';
import { FailureType } from '../src/shared/failures';
import { magicNumbers, type Simulator, startSimulator } from '../src/simulator';
import type { CallResult, PlaceCallInput } from '../src/shared/call-types';
import { createDevServerEnv, uniqueId, uniqueTaskQueue, workflowBundle } from './helpers/temporal';
import { failureOf } from './helpers/failures';

// One workflow id, one call, whoever starts the id again: the `temporal` CLI and the Python SDK start a closed id
// with their default reuse policy (ALLOW_DUPLICATE) and no knowledge of this project. The Python SDK lives in a
// venv that scripts/python-venv.ts builds on first use; a failed install fails these tests with pip's output.

const run = promisify(execFile);
const startAgainPy = join(__dirname, 'python', 'start_again.py');

let env: TestWorkflowEnvironment;
let sim: Simulator;
let python: string;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueTaskQueue('cross-language');
const input: PlaceCallInput = {
  toPhoneNumber: magicNumbers.achieved,
  objective: 'Ask about hours',
  timing: { pollInterval: '200ms', enrichmentInterval: '50ms' },
};

beforeAll(async () => {
  [env, sim, python] = await Promise.all([
    createDevServerEnv(),
    startSimulator({ progress: 'polls', credits: 1_000 }),
    ensurePythonVenv(),
  ]);
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ client: createAgentPhoneClient({ apiKey: sim.apiKey, baseUrl: sim.baseUrl }) }),
  });
  running = worker.run();
}, 300_000); // a first run installs the Python SDK from PyPI

afterAll(async () => {
  worker?.shutdown();
  await running;
  await sim?.close();
  await env?.teardown();
});

beforeEach(() => sim.reset());

const creates = () => sim.requests().filter((r) => r.method === 'POST').length;

/** The first run, through this project's own client. */
function startFromTypeScript(workflowId: string) {
  return env.client.workflow.start('placeCallWorkflow', { taskQueue, workflowId, args: [input] });
}

/** `temporal <args>` against this file's dev server; its stdout parsed as JSON (`-o json`). */
async function temporalCli<T>(args: string[]): Promise<T> {
  const { stdout } = await run(findTemporalBinary('cli'), [...args, '--address', env.address, '-o', 'json']);
  return JSON.parse(stdout) as T;
}

async function startFromCli(workflowId: string): Promise<{ runId: string; result: CallResult }> {
  const { runId } = await temporalCli<{ runId: string }>([
    'workflow',
    'start',
    '--type',
    'placeCallWorkflow',
    '--task-queue',
    taskQueue,
    '--workflow-id',
    workflowId,
    '--input',
    JSON.stringify(input),
  ]);
  const { result } = await temporalCli<{ result: CallResult }>([
    'workflow',
    'result',
    '--workflow-id',
    workflowId,
    '--run-id',
    runId,
  ]);
  return { runId, result };
}

async function startFromPython(workflowId: string): Promise<{ runId: string; result: CallResult }> {
  const { stdout } = await run(
    python,
    [startAgainPy, '--workflow-id', workflowId, '--task-queue', taskQueue, '--input', JSON.stringify(input)],
    { env: { ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default' } },
  );
  return JSON.parse(stdout) as { runId: string; result: CallResult };
}

describe('one workflow id places one call, whichever language starts it again', () => {
  it('a completed call started again by the temporal CLI returns the earlier result and dials nobody', async () => {
    const id = uniqueId('cli-again');
    const first = await startFromTypeScript(id);
    const result = (await first.result()) as CallResult;

    const again = await startFromCli(id);
    expect(again.runId).not.toBe(first.firstExecutionRunId);
    expect(again.result).toMatchObject({
      callId: result.callId,
      outcome: result.outcome,
      earlierRunId: first.firstExecutionRunId,
    });
    expect(creates()).toBe(1);
    expect(sim.calls()).toHaveLength(1);
  });

  it('a completed call started again by the Python SDK returns the earlier result and dials nobody', async () => {
    const id = uniqueId('python-again');
    const first = await startFromTypeScript(id);
    const result = (await first.result()) as CallResult;

    const again = await startFromPython(id);
    expect(again.runId).not.toBe(first.firstExecutionRunId);
    expect(again.result).toMatchObject({
      callId: result.callId,
      outcome: result.outcome,
      earlierRunId: first.firstExecutionRunId,
    });
    expect(creates()).toBe(1);
    expect(sim.calls()).toHaveLength(1);
  });

  it('a call the API refused (402) started again by the Python SDK dials, once', async () => {
    const id = uniqueId('python-refused');
    sim.setCredits(0);
    const first = await startFromTypeScript(id);
    expect((await failureOf(first.result())).type).toBe(FailureType.InsufficientCredits);
    expect(sim.calls()).toHaveLength(0);

    sim.setCredits(5);
    const again = await startFromPython(id);
    expect(again.runId).not.toBe(first.firstExecutionRunId);
    expect(again.result.earlierRunId).toBeUndefined();
    expect(sim.calls()).toHaveLength(1);
    expect(again.result.callId).toBe(sim.calls()[0]!.callId);
    expect(creates()).toBe(2); // the refused create and the one call
  });
});
