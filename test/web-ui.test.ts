import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentPhoneClient } from '../src/agentphone';
import { maskPhoneNumber, startCall } from '../src/calls';
import { findTemporalBinary } from '../src/dev/temporal-binaries';
import { searchAttributeKeys } from '../src/shared/search-attributes';
import { magicNumbers, type Simulator, startSimulator } from '../src/simulator';
import { type CallWorker, createCallWorker } from '../src/worker';
import { callCampaignWorkflow } from '../src/workflows';
import type { CallResult } from '../src/shared/call-types';
import {
  browserUnavailable,
  freePort,
  launchBrowser,
  openCompletedWorkflow,
  openCurrentDetails,
  openUiPage,
  openWorkflowList,
} from './helpers/browser';
import { uniqueId, uniqueTaskQueue, workflowBundle } from './helpers/temporal';
import {
  approveCampaignUpdate,
  callStateQuery,
  campaignProgressQuery,
  cancelCampaignUpdate,
} from '../src/shared/messages';

const screenshots = join(__dirname, '..', 'docs', 'screenshots');
const unavailable = browserUnavailable();
if (unavailable) console.warn(`Web UI tests skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('the Temporal Web UI shows calls (headless Chromium)', () => {
  let env: TestWorkflowEnvironment;
  let sim: Simulator;
  let worker: CallWorker;
  let running: Promise<void>;
  let browser: Browser;
  let page: Page;
  const taskQueue = uniqueTaskQueue('web-ui');
  // Short ids keep the screenshots' headings on one line.
  const completedId = uniqueId('call').slice(0, 13);
  const longId = uniqueId('call').slice(0, 13);
  const campaignId = uniqueId('campaign').slice(0, 17);
  const objective = 'Book a table for two at 7pm';
  let result: CallResult;

  beforeAll(async () => {
    const uiPort = await freePort();
    [env, sim, browser] = await Promise.all([
      TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: findTemporalBinary('cli') },
          ui: true,
          uiPort,
          searchAttributes: searchAttributeKeys,
        },
      }),
      startSimulator({ progress: 'polls', credits: Number.POSITIVE_INFINITY }),
      launchBrowser(),
    ]);
    worker = await createCallWorker({
      connection: env.nativeConnection,
      taskQueue,
      agentPhone: createAgentPhoneClient({ apiKey: sim.apiKey, baseUrl: sim.baseUrl }),
      worker: { workflowBundle: await workflowBundle() },
    });
    running = worker.run();
    page = await openUiPage(browser, `http://127.0.0.1:${uiPort}`);

    const completed = await startCall(
      env.client,
      {
        toPhoneNumber: magicNumbers.achieved,
        objective,
        businessName: 'Demo Bistro',
        timing: { pollInterval: '200ms' },
      },
      { taskQueue, workflowId: completedId },
    );
    result = await completed.handle.result();
  });

  afterAll(async () => {
    await browser?.close();
    await env?.client.workflow
      .getHandle(longId)
      .terminate('test over')
      .catch(() => undefined);
    await env?.client.workflow
      .getHandle(campaignId)
      .executeUpdate(cancelCampaignUpdate, { args: [{ by: 'test' }] })
      .catch(() => undefined);
    worker?.shutdown();
    await running;
    await sim?.close();
    await env?.teardown();
  });

  it("shows a completed call's summary and result on its workflow page", async () => {
    await openCompletedWorkflow(page, completedId);
    const io = page.getByTestId('input-and-result');
    await io.getByText('"outcome": "achieved"').waitFor();
    expect(result.summary).toMatch(/^Called Demo Bistro about/);
    await io.getByText('Called Demo Bistro about', { exact: false }).first().waitFor();
    await page.screenshot({ path: shot('call-result.png') });

    // The start's static summary and details, under User Metadata: a masked number, never the whole one.
    await page.getByTestId('user-metadata-tab').click();
    const summary = page.frameLocator('#user-metadata-summary').locator('body');
    await summary.getByText(`Call ${maskPhoneNumber(magicNumbers.achieved)} (Demo Bistro)`).waitFor();
    expect(await summary.innerText()).not.toContain(magicNumbers.achieved);
    await page.frameLocator('#user-metadata-details').locator('body').getByText(objective).waitFor();
  });

  it('lists the call under the filter AgentPhoneOutcome = "achieved"', async () => {
    await waitUntilListed(env.client, 'AgentPhoneOutcome = "achieved"', completedId);
    const ids = await openWorkflowList(page, 'AgentPhoneOutcome = "achieved"');
    expect(ids).toContain(completedId);
    await page.screenshot({ path: shot('list-filter.png') });
  });

  it("openCurrentDetails reads a running call's live details: phase and polls", async () => {
    const long = await startCall(
      env.client,
      { toPhoneNumber: magicNumbers.neverEnds, objective: 'Hold the line', timing: { pollInterval: '1s' } },
      { taskQueue, workflowId: longId },
    );
    await waitFor(async () => (await long.handle.query(callStateQuery)).polls >= 2, 20_000);

    const details = await openCurrentDetails(page, longId);
    expect(details.values.phase).toBe('polling');
    expect(Number(details.values.polls)).toBeGreaterThanOrEqual(2);
    expect(details.values['last status']).toBe('in_progress');
    expect(details.values['call id']).toMatch(/^cl_/);
    expect(details.text).not.toContain(magicNumbers.neverEnds);
    await page.screenshot({ path: shot('current-details.png') });

    // The details are live: reopening later shows more polls.
    const before = Number(details.values.polls);
    await waitFor(async () => (await long.handle.query(callStateQuery)).polls > before, 10_000);
    const later = await openCurrentDetails(page, longId);
    expect(Number(later.values.polls)).toBeGreaterThan(before);
  });

  it("shows a running campaign's progress table in its current details", async () => {
    const handle = await env.client.workflow.start(callCampaignWorkflow, {
      taskQueue,
      workflowId: campaignId,
      staticSummary: 'Campaign Spring recall',
      args: [
        {
          name: 'Spring recall',
          targets: [
            { toPhoneNumber: magicNumbers.neverEnds, objective: 'Hold the line' },
            { toPhoneNumber: magicNumbers.achieved, objective: 'Confirm the booking' },
            { toPhoneNumber: magicNumbers.partial, objective: 'Confirm the booking' },
            { toPhoneNumber: '911', objective: 'Never called' },
          ],
          maxConcurrentCalls: 2,
          timing: { pollInterval: '300ms', callTimeout: '10m' },
        },
      ],
    });
    await waitFor(async () => (await handle.query(campaignProgressQuery)).state === 'awaiting_approval', 15_000);
    await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'web-ui-test' }] });
    await waitFor(async () => {
      const { counts } = await handle.query(campaignProgressQuery);
      return counts.achieved === 1 && counts.partial === 1 && counts.in_flight === 1;
    }, 30_000);

    const details = await openCurrentDetails(page, campaignId);
    expect(details.text).toContain('Spring recall');
    expect(details.text).toMatch(/running/);
    expect(details.values).toMatchObject({ achieved: '1', partial: '1', in_flight: '1', 'refused at validation': '1' });
    await page.screenshot({ path: shot('campaign-progress.png') });
  });
});

function shot(name: string): string {
  mkdirSync(screenshots, { recursive: true });
  return join(screenshots, name);
}

/** Visibility is eventually consistent: the UI lists a workflow only once the visibility store has it. */
async function waitUntilListed(client: Client, query: string, workflowId: string): Promise<void> {
  await waitFor(async () => {
    for await (const execution of client.workflow.list({ query })) if (execution.workflowId === workflowId) return true;
    return false;
  }, 15_000);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
