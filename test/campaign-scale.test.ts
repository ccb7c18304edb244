import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities';
import { createAgentPhoneClient } from '../src/agentphone';
import { type Simulator, startSimulator } from '../src/simulator';
import { callCampaignWorkflow } from '../src/workflows';
import { inState, waitForProgress } from './helpers/campaign';
import { createTimeSkippingEnv, historyOf, quietLogger, uniqueId } from './helpers/temporal';
import { approveCampaignUpdate, campaignTargetsQuery } from '../src/shared/messages';

// 10,000 targets by default; CAMPAIGN_SCALE_TARGETS=1000 for a quicker local run.
const size = Number(process.env.CAMPAIGN_SCALE_TARGETS ?? 10_000);

let env: TestWorkflowEnvironment;
let sim: Simulator;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `campaign-scale-${Date.now()}`;

beforeAll(async () => {
  [env, sim] = await Promise.all([
    createTimeSkippingEnv(),
    startSimulator({
      progress: 'polls',
      credits: Number.POSITIVE_INFINITY,
      rateLimit: { limit: 1_000_000, windowMs: 60_000 },
    }),
  ]);
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: join(__dirname, 'helpers', 'scale-workflows.ts'),
      logger: quietLogger,
    }),
    activities: createActivities({
      client: createAgentPhoneClient({ apiKey: sim.apiKey, baseUrl: sim.baseUrl }),
      rateLimit: { count: 1_000_000, windowMs: 60_000 },
      // Under a loaded machine a create attempt can time out; the simulator deduplicates its retry. The untrusted
      // default (such a target ends `unknown`) is proven elsewhere: this test is about paging and continue-as-new.
      idempotency: 'trusted',
    }),
    maxConcurrentActivityTaskExecutions: 200,
    maxConcurrentWorkflowTaskExecutions: 100,
    maxCachedWorkflows: 500,
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await sim?.close();
  await env?.teardown();
});

describe(`a campaign of ${size} targets`, () => {
  it(
    'reads its CSV in pages, continues as new with a bounded history, and calls every target exactly once',
    { timeout: 30 * 60_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'campaign-scale-'));
      const csv = join(dir, 'targets.csv');
      const rows = Array.from(
        { length: size },
        (_, i) => `+1415${String(2_000_000 + i).padStart(7, '0')},Ask about opening hours ${i}`,
      );
      writeFileSync(csv, ['to_phone_number,objective', ...rows].join('\n'));

      const handle = await env.client.workflow.start(callCampaignWorkflow, {
        taskQueue,
        workflowId: uniqueId('campaign-scale'),
        args: [
          {
            name: 'Scale',
            targetsCsvPath: csv,
            callsPerMinute: 10_000,
            maxConcurrentCalls: 100,
            // Small enough that the campaign must continue as new several times.
            historyLimit: Math.max(500, Math.floor(size * 0.4)),
          },
        ],
      });
      const preview = await waitForProgress(handle, inState('awaiting_approval'), 60_000);
      expect(preview.validation).toMatchObject({ rows: size, valid: size, refused: 0 });
      await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'ops' }] });
      const report = await handle.result();

      expect(report.state).toBe('completed');
      expect(report.counts.achieved).toBe(size);
      expect(sim.stats().creates).toBe(size);
      const numbers = new Set(sim.calls().map((c) => c.toPhoneNumber));
      expect(numbers.size).toBe(size);

      // Every run of the chain stayed far below Temporal's limits.
      const latest = await historyOf(env.client.workflow.getHandle(handle.workflowId));
      const lastPage = await handle.query(campaignTargetsQuery, { offset: size - 10, limit: 10 });
      expect(lastPage.states).toBe('A'.repeat(10));
      for (const event of latest) {
        const carried = event.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
        if (carried) expect(carried.length).toBeLessThan(256 * 1024);
      }
      expect(latest.length).toBeLessThan(6_000);
      expect(report.runs).toBeGreaterThanOrEqual(3);
      expect(report.decisions).toHaveLength(1);
    },
  );
});
