// A recorded history written by an encrypting worker replays in CI with the test key kept beside it, holds none of
// the call's personal data in clear, and cannot be read without that key (the error names it).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities';
import { createAgentPhoneClient } from '../src/agentphone';
import { dataConverterFor, EncryptionCodec } from '../src/encryption/codec';
import { generateKey, keyFileEnvVar, keysEnvVar, loadKeyRing } from '../src/encryption/keys';
import { magicNumbers, type Simulator, startSimulator } from '../src/simulator';
import { placeCallWorkflow } from '../src/workflows';
import { createTimeSkippingEnv, recordHistory, uniqueId, uniqueTaskQueue, workflowBundle } from './helpers/temporal';

const dir = join(__dirname, 'histories');
const recorded = 'completed-achieved-encrypted';
const keyFile = join(dir, 'encryption-test-key.txt');
const testRing = loadKeyRing({ [keyFileEnvVar]: keyFile })!;
// The SDK loads the failure converter with Node's own require: the compiled one (npm run build).
const failureConverterPath = join(__dirname, '..', 'lib', 'encryption', 'failure-converter.js');
const converter = (ring = testRing) => ({ ...dataConverterFor(ring), failureConverterPath });
const input = {
  toPhoneNumber: magicNumbers.achieved,
  objective: 'Ask whether the wheelchair ramp at the side door is open',
  businessName: 'Ramp Street Pharmacy',
};

describe('encrypted recorded history', () => {
  let env: TestWorkflowEnvironment;
  let sim: Simulator;

  beforeAll(async () => {
    [env, sim] = await Promise.all([
      createTimeSkippingEnv(),
      startSimulator({ progress: 'polls', credits: Number.POSITIVE_INFINITY }),
    ]);
  });
  afterAll(async () => {
    await env?.teardown();
    await sim?.close();
  });

  it('is recorded by an encrypting worker, with nothing personal in clear (RECORD_HISTORIES=1 rewrites it)', async () => {
    const taskQueue = uniqueTaskQueue('encrypted-history');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      dataConverter: converter(),
      activities: createActivities({ client: createAgentPhoneClient({ apiKey: sim.apiKey, baseUrl: sim.baseUrl }) }),
    });
    const client = new Client({ connection: env.connection, dataConverter: converter() });
    const handle = await client.workflow.start(placeCallWorkflow, {
      args: [input],
      taskQueue,
      workflowId: uniqueId('call-encrypted'),
    });
    const result = await worker.runUntil(handle.result());
    expect(result.outcome).toBe('achieved');
    const fresh = historyToJSON(await handle.fetchHistory());
    for (const text of [
      input.toPhoneNumber,
      input.objective,
      input.businessName,
      result.summary!,
      result.transcript!,
    ]) {
      expect(fresh).not.toContain(text);
    }
    await recordHistory(handle, recorded);
  });

  const history = () => historyFromJSON(JSON.parse(readFileSync(join(dir, `${recorded}.json`), 'utf8')));
  const workflowId = () => readFileSync(join(dir, `${recorded}.id`), 'utf8').trim();

  it('holds no personal data in clear, and names the key that encrypted it', () => {
    const text = readFileSync(join(dir, `${recorded}.json`), 'utf8');
    for (const personal of [input.toPhoneNumber, input.objective, input.businessName])
      expect(text).not.toContain(personal);
    const keyIdBase64 = Buffer.from(testRing.current.id).toString('base64');
    expect(text).toContain(keyIdBase64);
  });

  it('replays with the test key', async () => {
    await expect(
      Worker.runReplayHistory(
        { workflowBundle: await workflowBundle(), dataConverter: converter() },
        history(),
        workflowId(),
      ),
    ).resolves.toBeUndefined();
  });

  it('fails to replay without its key, and its payloads fail naming the key id', async () => {
    const other = loadKeyRing({ [keysEnvVar]: generateKey('other') })!;
    // The replay's own failure is encrypted too (an "Encoded failure"), so the key id is checked on a payload.
    await expect(
      Worker.runReplayHistory(
        { workflowBundle: await workflowBundle(), dataConverter: converter(other) },
        history(),
        workflowId(),
      ),
    ).rejects.toThrow(/Replay failed/);
    const started = history().events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
    expect(started).toHaveLength(1);
    await expect(new EncryptionCodec(other).decode(started)).rejects.toThrow(
      `payload encrypted with key '${testRing.current.id}', which is not configured`,
    );
    await expect(new EncryptionCodec(testRing).decode(started)).resolves.toHaveLength(1);
  });
});
