import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAgentPhoneClient } from '../src/agentphone';
import { startCall } from '../src/calls';
import { searchAttributeKeys, searchAttributes } from '../src/shared/search-attributes';
import { magicNumbers, type Simulator, startSimulator } from '../src/simulator';
import { missingSearchAttributes, registerSearchAttributes, setupCommand } from '../src/temporal-setup';
import { createCallWorker } from '../src/worker';
import type { PlaceCallInput } from '../src/shared/call-types';
import { createDevServerEnv, historyOf, uniqueId, uniqueTaskQueue, workflowBundle } from './helpers/temporal';

const run = promisify(execFile);
const root = join(__dirname, '..');
const setupJs = join(root, 'lib', 'temporal-setup.js');
const names = searchAttributeKeys.map((k) => k.name);
const { EventType } = temporal.api.enums.v1;

let env: TestWorkflowEnvironment;
let sim: Simulator;

beforeAll(async () => {
  if (!existsSync(setupJs)) throw new Error('lib/ is missing: run `npm run build` first (npm test does).');
  // A dev server of this file's own, started without the search attributes: a namespace as a user first meets it.
  [env, sim] = await Promise.all([
    createDevServerEnv(),
    startSimulator({ progress: 'polls', credits: Number.POSITIVE_INFINITY }),
  ]);
});

afterAll(async () => {
  vi.restoreAllMocks();
  await sim?.close();
  await env?.teardown();
});

const call = (toPhoneNumber: string, objective: string): PlaceCallInput => ({
  toPhoneNumber,
  objective,
  businessName: 'Acme Outdoor',
  timing: { pollInterval: '200ms' },
});

async function newWorker(taskQueue: string) {
  return createCallWorker({
    connection: env.nativeConnection,
    taskQueue,
    agentPhone: createAgentPhoneClient({ apiKey: sim.apiKey, baseUrl: sim.baseUrl }),
    worker: { workflowBundle: await workflowBundle() },
  });
}

/** Visibility is eventually consistent: a workflow shows up in a list query a moment after it closes. */
async function findIds(client: Client, query: string, expected: string[], timeoutMs = 15_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ids: string[] = [];
    for await (const execution of client.workflow.list({ query })) ids.push(execution.workflowId);
    if (expected.every((id) => ids.includes(id)) || Date.now() > deadline) return ids;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('search attributes on a namespace that lacks them, then has them', () => {
  let unindexedId: string;

  it('missingSearchAttributes lists all five on a fresh dev server', async () => {
    expect(await missingSearchAttributes(env.connection.operatorService)).toEqual(names);
    expect(names).toHaveLength(5);
  });

  it('a worker warns once, naming the setup command, and calls still complete without a failed workflow task', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const taskQueue = uniqueTaskQueue('sa-missing');
    const worker = await newWorker(taskQueue);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain(setupCommand);
    expect(String(warn.mock.calls[0]?.[0])).toContain('AgentPhoneOutcome');
    warn.mockRestore();

    unindexedId = uniqueId('call-unindexed');
    const { handle } = await startCall(env.client, call(magicNumbers.achieved, 'Ask about opening hours'), {
      taskQueue,
      workflowId: unindexedId,
    });
    const result = await worker.runUntil(handle.result());
    expect(result).toMatchObject({ status: 'completed', outcome: 'achieved' });

    const events = await historyOf(handle);
    expect(events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)).toEqual([]);
    // None of the package's: the SDK itself records a patch (patched()) in TemporalChangeVersion, a built-in attribute.
    const ours = events.filter((e) =>
      Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}).some(
        (name) => name !== 'TemporalChangeVersion',
      ),
    );
    expect(ours).toEqual([]);
  });

  it('registerSearchAttributes adds all five, and `npm run setup:temporal` then finds nothing to do', async () => {
    expect(await registerSearchAttributes(env.connection.operatorService)).toEqual(names);
    expect(await missingSearchAttributes(env.connection.operatorService)).toEqual([]);

    const { stdout } = await run(process.execPath, [setupJs], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: 'default',
      },
      timeout: 30_000,
    });
    expect(stdout).toMatch(/Namespace "default" has every AgentPhone search attribute already\./);
    expect(await registerSearchAttributes(env.connection.operatorService)).toEqual([]);
  });

  describe('after registration, a new worker upserts them', () => {
    const phoneNumbers = [magicNumbers.achieved, magicNumbers.failed];
    const objectives = ['Book a table for two at 7pm', 'Confirm the delivery address'];
    let completedId: string;
    let failedId: string;

    beforeAll(async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const taskQueue = uniqueTaskQueue('sa-registered');
      const worker = await newWorker(taskQueue);
      expect(warn).not.toHaveBeenCalled();
      warn.mockRestore();

      completedId = uniqueId('call-indexed');
      failedId = uniqueId('call-indexed-failed');
      const completed = await startCall(env.client, call(magicNumbers.achieved, objectives[0] as string), {
        taskQueue,
        workflowId: completedId,
      });
      const failed = await startCall(env.client, call(magicNumbers.failed, objectives[1] as string), {
        taskQueue,
        workflowId: failedId,
      });
      await worker.runUntil(
        Promise.all([completed.handle.result(), failed.handle.result().catch((error: unknown) => error)]),
      );
    });

    it('finds the completed call by outcome and status', async () => {
      const query = 'AgentPhoneOutcome = "achieved" AND AgentPhoneCallStatus = "completed"';
      const ids = await findIds(env.client, query, [completedId]);
      expect(ids).toContain(completedId);
      expect(ids).not.toContain(unindexedId);
      expect(ids).not.toContain(failedId);
    });

    it('finds the failed call by its failure type', async () => {
      const ids = await findIds(env.client, 'AgentPhoneFailureType = "CallFailed"', [failedId]);
      expect(ids).toEqual([failedId]);
      const byStatus = await findIds(env.client, 'AgentPhoneCallStatus = "failed"', [failedId]);
      expect(byStatus).toContain(failedId);
    });

    it('indexes states only: no value holds the phone number or the objective', async () => {
      const completed = await env.client.workflow.getHandle(completedId).describe();
      const failed = await env.client.workflow.getHandle(failedId).describe();
      expect(completed.typedSearchAttributes.get(searchAttributes.outcome)).toBe('achieved');
      expect(completed.typedSearchAttributes.get(searchAttributes.callStatus)).toBe('completed');
      expect(failed.typedSearchAttributes.get(searchAttributes.failureType)).toBe('CallFailed');

      const values = [completed, failed].flatMap((d) => d.typedSearchAttributes.getAll().map((p) => String(p.value)));
      expect(values.length).toBeGreaterThanOrEqual(4);
      const digits = phoneNumbers.map((n) => n.replace(/\D/g, ''));
      for (const value of values) {
        for (const number of digits) expect(value.replace(/\D/g, '')).not.toContain(number.slice(-7));
        for (const objective of objectives) expect(value).not.toContain(objective);
      }
    });
  });
});
