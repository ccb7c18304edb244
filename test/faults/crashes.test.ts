import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callCampaignWorkflow } from '../../src/workflows';
import type { CampaignProgress } from '../../src/shared/campaign-types';
import {
  createdCallIds,
  events,
  fetchAllRuns,
  openWorkflowIds,
  recordHistories,
  recoveryCounts,
  type RecordedRun,
  replayAll,
  workflowTaskFailures,
} from './support/audit';
import { commandLine, envInt, type Figures, faultsSize, machine } from './support/figures';
import { finishSuite } from './support/finish';
import { sleep, type WorkerProcess } from './support/processes';
import { prng, seedFromEnv } from './support/random';
import { distinctiveKey } from './support/secrets';
import {
  type CampaignHandle,
  retrying,
  type Stack,
  startStack,
  waitForProgress,
  workflowIdsStartingWith,
} from './support/stack';
import { callsByNumber, campaignTargets, oneCallScenarios, writeTargetsCsv } from './support/targets';
import { approveCampaignUpdate, campaignProgressQuery, campaignTargetsQuery } from '../../src/shared/messages';

// CI size by default (inside `npm test`); FAULTS_SIZE=large (npm run test:faults) or the FAULTS_* variables for more.
const size = {
  targets: envInt('FAULTS_TARGETS', faultsSize === 'large' ? 1000 : 200),
  workerKills: envInt('FAULTS_WORKER_KILLS', faultsSize === 'large' ? 30 : 10),
  serverKills: envInt('FAULTS_SERVER_KILLS', faultsSize === 'large' ? 4 : 2),
  /** Kills that first hold the simulator's create answers until a create has been acted on. */
  createKills: envInt('FAULTS_CREATE_KILLS', faultsSize === 'large' ? 3 : 1),
};
const seed = seedFromEnv();
const rng = prng(seed);
const apiKey = distinctiveKey('crashes', rng.hex(6));
console.log(`[faults] crashes: seed ${seed} (FAULTS_SEED=${seed} repeats this kill schedule)`);

const startedAt = Date.now();
let stack: Stack;
let worker: WorkerProcess;
const kills = { worker: 0, server: 0, workerWithCreateInFlight: 0 };
const details: Record<string, unknown> = {};
const counted = { concluded: 0, duplicates: 0, lost: 0, stuck: 0 };
let runs: RecordedRun[] = [];
let recorded: string[] = [];

beforeAll(async () => {
  stack = await startStack({
    suite: 'crashes',
    apiKey,
    persistent: true,
    // The campaign's own pacer is not under test here (two-workers.test.ts measures it): the API allows plenty.
    // A window of one second: its 429s (the rateLimited* scenarios) say Retry-After 1 s, and the dial gate holds
    // every dialer of the key for that long, as it would for the real API's 60 s.
    simulator: { rateLimit: { limit: 2_000, windowMs: 1_000 } },
    // This suite proves recovery against an API that deduplicates (the simulator does): the workers trust it, and a
    // create lost with a killed worker is sent again with its key. shared-key-no-dedup proves the default, untrusted.
    workerEnv: { AGENTPHONE_IDEMPOTENCY: 'trusted' },
  });
  worker = await stack.startWorker();
}, 180_000);

afterAll(async () => {
  await stack?.close();
});

/** Holds create responses at the simulator until one create has been acted on, then kills the worker waiting for it. */
async function killWithCreateInFlight(): Promise<number> {
  const before = stack.sim.stats().creates;
  stack.sim.holdCreates(45_000);
  const deadline = Date.now() + 30_000;
  while (stack.sim.stats().creates === before && Date.now() < deadline) await sleep(20);
  const held = stack.sim.stats().creates - before;
  await worker.kill();
  stack.sim.releaseCreates();
  return held;
}

describe(`a campaign of ${size.targets} targets on a dev server that keeps its database`, () => {
  const plain = size.targets - oneCallScenarios.length;
  const targets = campaignTargets(plain, oneCallScenarios, 3_000_000);
  const campaignId = `faults-crashes-${seed}`;
  let report: CampaignProgress;
  const timeline: string[] = [];
  const at = () => `${((Date.now() - startedAt) / 1000).toFixed(1)}s`;

  it(
    `concludes every target exactly once through ${size.workerKills} worker SIGKILLs and ${size.serverKills} server SIGKILLs`,
    { timeout: (faultsSize === 'large' ? 40 : 12) * 60_000 },
    async () => {
      const csv = join(stack.dir, 'targets.csv');
      writeTargetsCsv(csv, targets);
      const handle = await stack.client.workflow.start(callCampaignWorkflow, {
        taskQueue: stack.taskQueue,
        workflowId: campaignId,
        args: [
          {
            name: 'Faults: crashes',
            targetsCsvPath: csv,
            callsPerMinute: 600,
            maxConcurrentCalls: 20,
            // Small enough that the campaign continues as new under the crashes too.
            historyLimit: 500,
            timing: { pollInterval: '200ms', rateLimitWait: '1s' },
          },
        ],
      });
      await waitForProgress(handle, (p) => p.state === 'awaiting_approval', 120_000);
      await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'faults-suite', comment: 'crash drill' }] });

      let done = false;
      const result = retrying(
        'campaign result',
        () => handle.result(),
        (faultsSize === 'large' ? 35 : 10) * 60_000,
      ).finally(() => {
        done = true;
      });
      result.catch(() => undefined);
      const sampler = sampleProgress(handle, () => done, timeline, at);

      // The schedule comes from the seed: which kills first hold a create (one early, while creates are sure to be
      // happening; any others later), and after which kills the server dies too.
      const firstHold = rng.int(0, Math.min(2, size.workerKills - 1));
      const laterHolds = Math.min(size.createKills - 1, size.workerKills - 1 - firstHold);
      const holdKills = new Set(
        size.createKills
          ? [firstHold, ...(laterHolds > 0 ? rng.distinct(laterHolds, firstHold + 1, size.workerKills - 1) : [])]
          : [],
      );
      const serverKillsAfter = new Set(
        size.serverKills ? rng.distinct(size.serverKills, 1, Math.max(1, size.workerKills - 1)) : [],
      );
      let workerSelfExits = 0;
      let killsBeforeCompletion = 0;
      const createsHeld: number[] = [];
      for (let k = 0; k < size.workerKills; k++) {
        await sleep(rng.int(1000, 4000));
        if (!worker.running) {
          workerSelfExits++;
          timeline.push(`${at()} worker ${worker.pid} had exited on its own: ${JSON.stringify(worker.diedOnItsOwn)}`);
        }
        if (holdKills.has(k)) {
          const held = await killWithCreateInFlight();
          createsHeld.push(held);
          if (held > 0) kills.workerWithCreateInFlight++;
          timeline.push(`${at()} SIGKILL worker ${worker.pid} with ${held} create(s) acted on and unanswered`);
        } else {
          await worker.kill();
          timeline.push(`${at()} SIGKILL worker ${worker.pid}`);
        }
        kills.worker++;
        if (!done) killsBeforeCompletion++;
        await sleep(rng.int(0, 1000));
        worker = await stack.startWorker();
        timeline.push(`${at()} worker ${worker.pid} up`);
        if (serverKillsAfter.has(k)) {
          await sleep(rng.int(500, 3000));
          await stack.server.kill();
          kills.server++;
          timeline.push(`${at()} SIGKILL temporal server`);
          await sleep(rng.int(200, 2000));
          await stack.server.restart();
          timeline.push(`${at()} temporal server up (same port, same database file)`);
        }
      }
      report = await result;
      await sampler;
      timeline.push(`${at()} campaign ${report.state}`);
      Object.assign(details, {
        timeline,
        workerSelfExits,
        killsBeforeCompletion,
        createsHeldAtKill: createsHeld,
        campaignRuns: report.runs,
        failedByType: report.failedByType,
      });

      expect(kills.worker).toBeGreaterThanOrEqual(size.workerKills);
      expect(killsBeforeCompletion, 'every kill landed while the campaign was running').toBe(size.workerKills);
      expect(kills.workerWithCreateInFlight).toBeGreaterThanOrEqual(1);
      expect(kills.server).toBe(size.serverKills);
      expect(workerSelfExits, 'no worker exited on its own').toBe(0);

      // Every target concluded once, as its scenario says.
      expect(report.state).toBe('completed');
      expect(report.decisions.map((d) => d.action)).toEqual(['approve']);
      expect(report.runs, 'the campaign continued as new at least once').toBeGreaterThanOrEqual(2);
      const sum = Object.values(report.counts).reduce((a, b) => a + b, 0);
      expect(sum).toBe(targets.length);
      expect(report.counts).toMatchObject({ pending: 0, in_flight: 0, skipped: 0 });
      const page = await retrying(
        'targets query',
        () => handle.query(campaignTargetsQuery, { offset: 0, limit: targets.length }),
        60_000,
      );
      const wrong = targets.flatMap((t, i) =>
        page.states[i] === t.expected.code ? [] : [`${i} ${t.scenario}: ${page.states[i]} ≠ ${t.expected.code}`],
      );
      counted.concluded = targets.length - [...page.states].filter((s) => s === '.' || s === '>').length;
      counted.lost = wrong.length;
      expect(wrong).toEqual([]);

      // One call per person: by the simulator's own record, and by the call ids the workflows received.
      const byNumber = callsByNumber(stack.sim.calls());
      counted.duplicates = [...byNumber.values()].filter((n) => n > 1).length;
      const missing = targets
        .filter((t) => t.expected.creates && !byNumber.has(t.toPhoneNumber))
        .map((t) => t.toPhoneNumber);
      expect(counted.duplicates).toBe(0);
      expect(missing).toEqual([]);
      expect(stack.sim.stats().creates).toBe(targets.length);

      // One call workflow per target, no redial (no target here was refused without a call being created).
      const children = await workflowIdsStartingWith(stack.client, `${campaignId}/`);
      expect(new Set(children).size).toBe(targets.length);
      expect(children.filter((id) => /\/r\d+$/.test(id))).toEqual([]);

      const open = await openWorkflowIds(stack.client);
      counted.stuck = open.length;
      expect(open).toEqual([]);

      runs = await fetchAllRuns(stack.client);
      const callIds = createdCallIds(runs);
      expect([...callIds.values()].filter((ids) => ids.length > 1)).toEqual([]);
      expect(callIds.size).toBe(stack.sim.stats().creates);
      const failures = workflowTaskFailures(runs);
      Object.assign(details, {
        workflowTaskFailuresByCause: failures.byCause,
        unexpectedWorkflowTaskFailures: failures.unexpected.length,
        ...recoveryCounts(runs),
        runsAudited: runs.length,
        simulator: stack.sim.stats(),
      });
      expect(failures.unexpected).toEqual([]);
    },
  );

  it('leaves histories that replay deterministically, crashes and all', { timeout: 10 * 60_000 }, async () => {
    expect(runs.length).toBeGreaterThan(size.targets);
    const replay = await replayAll(runs);
    details.replayed = replay.replayed;
    expect(replay.errors).toEqual([]);
    expect(replay.replayed).toBe(runs.length);

    // A few to keep: the campaign's first and last runs, and calls a crash interrupted.
    const campaignRuns = runs.filter((r) => r.workflowId === campaignId).sort((x, y) => startMs(x) - startMs(y));
    const calls = runs.filter((r) => r.type === 'placeCallWorkflow');
    // A create retried because its attempt timed out (the worker died with it), not because the API answered 5xx.
    const retriedCreate = calls.find((r) => startsOf(r, 'createCall').some((s) => s.lastFailure?.timeoutFailureInfo));
    const timedOutTask = calls.find(
      (r) => r !== retriedCreate && events(r).some((e) => e.workflowTaskTimedOutEventAttributes),
    );
    recorded = recordHistories([
      { name: 'crash-campaign-first-run', run: campaignRuns[0]! },
      ...(campaignRuns.length > 1 ? [{ name: 'crash-campaign-last-run', run: campaignRuns.at(-1)! }] : []),
      ...(retriedCreate ? [{ name: 'crash-call-create-retried', run: retriedCreate }] : []),
      ...(timedOutTask ? [{ name: 'crash-call-task-timed-out', run: timedOutTask }] : []),
    ]);
    details.recordedHistories = recorded
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/^.*\/test\//, 'test/'));
  });

  it('never writes the API key into a history, a log, a failure message or a file', async () => {
    const final = await finishSuite(stack, figuresNow, recorded);
    expect(final.secretFoundIn).toEqual([]);
  });
});

function startMs(run: RecordedRun): number {
  const t = events(run)[0]?.eventTime;
  return Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
}

/** The recorded starts of an activity type in a run: the last attempt of each, with the failure of the one before. */
function startsOf(run: RecordedRun, activityType: string) {
  const scheduled = new Set(
    events(run)
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType)
      .map((e) => String(e.eventId)),
  );
  return events(run)
    .map((e) => e.activityTaskStartedEventAttributes)
    .filter((s): s is NonNullable<typeof s> => !!s && scheduled.has(String(s.scheduledEventId)));
}

/** Every 5 s, how many targets have concluded: the timeline shows what each kill cost. */
async function sampleProgress(
  handle: CampaignHandle,
  done: () => boolean,
  timeline: string[],
  at: () => string,
): Promise<void> {
  let last = -1;
  while (!done()) {
    try {
      const p = await handle.query(campaignProgressQuery);
      const concluded = Object.entries(p.counts).reduce(
        (n, [s, c]) => (s === 'pending' || s === 'in_flight' ? n : n + c),
        0,
      );
      if (concluded !== last)
        timeline.push(`${at()} ${concluded} concluded, ${p.counts.in_flight} in flight (run ${p.runs})`);
      last = concluded;
    } catch {
      timeline.push(`${at()} progress query unanswered`);
    }
    await sleep(5000);
  }
}

function figuresNow(): Figures {
  const sim = stack.sim.stats();
  return {
    suite: 'crashes',
    title: `${size.targets}-target campaign, production worker and dev server SIGKILLed`,
    size: faultsSize,
    seed,
    startedAt: new Date(startedAt).toISOString(),
    durationMs: Date.now() - startedAt,
    command: commandLine('test/faults/crashes.test.ts'),
    machine: machine(),
    faultsInjected: {
      // Disjoint kinds, so that the total counts each kill once.
      'worker SIGKILL': kills.worker - kills.workerWithCreateInFlight,
      'worker SIGKILL with a create acted on and unanswered': kills.workerWithCreateInFlight,
      'server SIGKILL': kills.server,
      ...Object.fromEntries(Object.entries(sim.faultsInjected).map(([k, n]) => [`simulator scenario ${k}`, n])),
    },
    kills,
    targets: { requested: size.targets, ...counted },
    details,
    secretFoundIn: [],
  };
}
