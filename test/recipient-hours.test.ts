// Campaigns apply each recipient's calling hours by default, by its number (the contact policy's hours, narrowed by
// the campaign's own callingWindow): on a dev server, against the simulator, at whatever hour the tests run. The
// numbers are chosen when the test starts: one whose zone is within its hours now, one whose zone is not.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAgentPhoneClient } from '../src/agentphone';
import { type ContactStore, openContactStore } from '../src/contact-store';
import {
  callingHoursFor,
  type ContactPolicy,
  defaultContactPolicy,
  parseContactPolicy,
  zoneOfNumber,
} from '../src/policy';
import { windowStatus } from '../src/shared/calling-window';
import type { CampaignInput, CampaignProgress } from '../src/shared/campaign-types';
import { approveCampaignUpdate, cancelCampaignUpdate } from '../src/shared/messages';
import { magicNumbers, type Simulator, startSimulator } from '../src/simulator';
import { createCallWorker } from '../src/worker';
import { callCampaignWorkflow } from '../src/workflows';
import { waitForProgress } from './helpers/campaign';
import { createDevServerEnv, recordHistory, uniqueId, uniqueTaskQueue, workflowBundle } from './helpers/temporal';

const timing = { pollInterval: '200ms', enrichmentInterval: '50ms' };
const margin = 15 * 60_000;

/** Numbers with one zone each, around the world: at any hour some are within 08:00–21:00 and some are not. */
const candidates = [
  '+442079460123',
  '+493012345678',
  '+81312345678',
  '+61291234567',
  '+85221234567',
  '+12125550123',
  '+16045550123',
  '+18085550123',
  '+551123456789',
];

/** A candidate whose hours are `open` now, and stay so for the test's length. */
function numberThatIs(open: boolean): string {
  const now = Date.now();
  const found = candidates.find((number) => {
    const zone = zoneOfNumber(number);
    if (zone.kind !== 'known') return false;
    const status = windowStatus(zone.zone, callingHoursFor(number), now);
    return status.open === open && status.changesAt - now > margin;
  });
  if (!found) throw new Error(`no candidate number is ${open ? 'within' : 'outside'} its hours for 15 minutes now`);
  return found;
}

let env: TestWorkflowEnvironment;
let sim: Simulator;
let store: ContactStore;
const dataDir = mkdtempSync(join(tmpdir(), 'recipient-hours-'));

beforeAll(async () => {
  [env, sim, store] = await Promise.all([
    createDevServerEnv(),
    startSimulator({ apiKey: 'sk_test_recipient_hours', progress: 'polls', credits: Number.POSITIVE_INFINITY }),
    openContactStore({ dataDir }),
  ]);
}, 180_000);

afterAll(async () => {
  await store?.close();
  await sim?.close();
  await env?.teardown();
  rmSync(dataDir, { recursive: true, force: true });
});

beforeEach(() => sim.reset());

const posts = (number: string) => sim.requests().filter((r) => r.method === 'POST' && r.toPhoneNumber === number);

/** Runs a campaign on a worker with `policy` until `until` holds of its progress; cancels it if it still runs. */
async function campaign(
  policy: ContactPolicy,
  input: Omit<CampaignInput, 'name'>,
  until: (p: CampaignProgress) => boolean,
  record?: string,
): Promise<CampaignProgress> {
  const taskQueue = uniqueTaskQueue('recipient-hours');
  const worker = await createCallWorker({
    connection: env.nativeConnection,
    taskQueue,
    agentPhone: createAgentPhoneClient({ apiKey: sim.apiKey, baseUrl: sim.baseUrl }),
    gate: false,
    searchAttributes: false,
    worker: { workflowBundle: await workflowBundle() },
    contacts: { store, policy },
  });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start(callCampaignWorkflow, {
      taskQueue,
      workflowId: uniqueId('campaign-hours'),
      args: [{ name: 'Recipient hours', timing, ...input }],
    });
    await waitForProgress(handle, (p) => p.state === 'awaiting_approval', 60_000);
    await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'ops' }] });
    const progress = await waitForProgress(handle, until, 60_000);
    if (progress.state === 'running') {
      await handle.executeUpdate(cancelCampaignUpdate, { args: [{ by: 'ops', reason: 'test over' }] });
    }
    await handle.result();
    if (record) await recordHistory(handle, record);
    return progress;
  });
}

const targets = (...numbers: string[]) => numbers.map((toPhoneNumber) => ({ toPhoneNumber, objective: 'Ask' }));

describe('a campaign applies its recipients calling hours by default', () => {
  it('calls a recipient within its hours, holds one outside them, and skips one whose zone is unknown', async () => {
    const [open, closed] = [numberThatIs(true), numberThatIs(false)];
    const progress = await campaign(
      defaultContactPolicy,
      { targets: targets(open, closed, magicNumbers.achieved) },
      (p) => p.counts.achieved === 1 && p.counts.skipped === 1,
      'campaign-recipient-hours',
    );
    expect(progress.counts).toMatchObject({ achieved: 1, skipped: 1, pending: 1 });
    expect(progress.skippedByReason).toEqual({ no_timezone: 1 });
    // Said at the preview: the hours apply, and one target has no zone that can be told.
    expect(progress.validation?.policy?.recipientHours).toEqual({ applied: true, noTimezone: 1 });
    // Held, not refused: it waits for its hours (a timer), and nothing was sent.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(posts(closed)).toEqual([]);
    expect(posts(open)).toHaveLength(1);
    expect(posts(magicNumbers.achieved)).toEqual([]);
  }, 180_000);

  it("does the same for a CSV list, whose pages the workers read with each target's hours", async () => {
    const [open, closed] = [numberThatIs(true), numberThatIs(false)];
    const file = join(dataDir, 'targets.csv');
    writeFileSync(file, `to_phone_number,objective\n${closed},Ask\n${open},Ask\n`);
    const progress = await campaign(defaultContactPolicy, { targetsCsvPath: file }, (p) => p.counts.achieved === 1);
    expect(progress.counts).toMatchObject({ achieved: 1, pending: 1 });
    expect(posts(open)).toHaveLength(1);
    expect(posts(closed)).toEqual([]);
  }, 180_000);

  it("skips every target whose hours the campaign's own window never meets", async () => {
    const progress = await campaign(
      defaultContactPolicy,
      { targets: targets('+12125550123', '+81312345678'), callingWindow: { start: '22:00', end: '23:00' } },
      (p) => p.state === 'completed',
    );
    expect(progress.counts).toMatchObject({ skipped: 2, achieved: 0 });
    expect(progress.skippedByReason).toEqual({ outside_calling_hours: 2 });
    expect(sim.requests().filter((r) => r.method === 'POST')).toEqual([]);
  }, 180_000);

  it('keeps to its own window alone when the policy says hours.campaigns: false', async () => {
    const closed = numberThatIs(false);
    const progress = await campaign(
      parseContactPolicy({ hours: { campaigns: false } }, 'campaigns at any hour'),
      { targets: targets(closed) },
      (p) => p.state === 'completed',
    );
    expect(progress.counts).toMatchObject({ achieved: 1 });
    expect(posts(closed)).toHaveLength(1);
  }, 180_000);
});
