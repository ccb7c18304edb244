import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCall } from '../../src/calls';
import { FailureType } from '../../src/shared/failures';
import type { IdempotencyMode } from '../../src/simulator';
import { callCampaignWorkflow } from '../../src/workflows';
import { type CampaignProgress, targetStateCodes } from '../../src/shared/campaign-types';
import type { CallResult } from '../../src/shared/call-types';
import { maxInAnyWindow } from '../helpers/campaign';
import {
  createdCallIds,
  describeOpenWorkflows,
  fetchAllRuns,
  openWorkflowIds,
  unlessStalled,
  workflowTaskFailures,
} from './support/audit';
import { commandLine, envInt, type Figures, faultsSize, machine } from './support/figures';
import { finishSuite } from './support/finish';
import { sleep, type WorkerProcess } from './support/processes';
import { prng, seedFromEnv } from './support/random';
import { distinctiveKey } from './support/secrets';
import { type CampaignHandle, type Stack, startStack, waitForProgress } from './support/stack';
import { approveCampaignUpdate, campaignProgressQuery, campaignTargetsQuery } from '../../src/shared/messages';

// One API key shared by two campaigns and a backend's single calls, with production workers SIGKILLed throughout
// (some while the simulator holds the answer to a create it has acted on). Run twice: against an API that honours
// Idempotency-Key with the workers trusting it, and against one that ignores it with the workers' default
// (untrusted). Either way: never more than the ceiling in any window at the API, nobody dialed twice, and every
// create whose answer was lost accounted for as CallOutcomeUnknown / unknown.

const size = {
  perCampaign: envInt('FAULTS_SHARED_TARGETS', faultsSize === 'large' ? 150 : 30),
  singles: envInt('FAULTS_SHARED_SINGLES', faultsSize === 'large' ? 40 : 10),
  workerKills: envInt('FAULTS_SHARED_KILLS', faultsSize === 'large' ? 20 : 10),
  createKills: envInt('FAULTS_SHARED_CREATE_KILLS', faultsSize === 'large' ? 5 : 3),
};
/** The key's ceiling, scaled: 10 creates per 2 s. */
const ceiling = { limit: 10, windowMs: 2_000 };
const timing = { pollInterval: '200ms', enrichmentInterval: '50ms', rateLimitWait: '2s' };

interface Mode {
  suite: 'shared-key' | 'shared-key-no-dedup';
  title: string;
  idempotency: 'trusted' | 'untrusted';
  simulator: IdempotencyMode;
}
const modes: Mode[] = [
  {
    suite: 'shared-key',
    title: 'one key: two campaigns and single calls, workers SIGKILLed, an API that deduplicates',
    idempotency: 'trusted',
    simulator: 'honour',
  },
  {
    suite: 'shared-key-no-dedup',
    title: 'one key: two campaigns and single calls, workers SIGKILLed, an API that ignores Idempotency-Key',
    idempotency: 'untrusted',
    simulator: 'ignore',
  },
];

const numbers = (n: number, first: number) =>
  Array.from({ length: n }, (_, i) => `+1415${String(first + i).padStart(7, '0')}`);

type Ending = { kind: 'result'; result: CallResult } | { kind: 'failure'; type: string };

async function endingOf(handle: WorkflowHandle): Promise<Ending> {
  try {
    return { kind: 'result', result: (await handle.result()) as CallResult };
  } catch (error) {
    const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
    return { kind: 'failure', type: cause instanceof ApplicationFailure ? (cause.type ?? '?') : String(error) };
  }
}

for (const [m, mode] of modes.entries()) {
  describe(`${mode.suite}: ${mode.title}`, () => {
    const seed = seedFromEnv() + m;
    const rng = prng(seed);
    const apiKey = distinctiveKey(mode.suite, rng.hex(6));
    const startedAt = Date.now();
    let stack: Stack;
    const workers: WorkerProcess[] = [];
    const kills = { worker: 0, server: 0, workerWithCreateInFlight: 0 };
    const details: Record<string, unknown> = {};
    const rows: NonNullable<Figures['rows']> = {};
    const counted = { requested: 0, concluded: 0, duplicates: 0, lost: 0, stuck: 0 };

    beforeAll(async () => {
      stack = await startStack({
        suite: mode.suite,
        apiKey,
        simulator: { rateLimit: ceiling, idempotency: mode.simulator },
        workerEnv: { AGENTPHONE_IDEMPOTENCY: mode.idempotency },
      });
      workers.push(await stack.startWorker(), await stack.startWorker());
    }, 180_000);

    afterAll(async () => {
      await stack?.close();
    });

    /** Kills every worker while the simulator holds the answer to a create it has acted on; then starts two again. */
    async function killWithCreateInFlight(): Promise<number> {
      const before = stack.sim.stats().creates;
      stack.sim.holdCreates(45_000);
      const deadline = Date.now() + 20_000;
      while (stack.sim.stats().creates === before && Date.now() < deadline) await sleep(20);
      const held = stack.sim.stats().creates - before;
      await Promise.all(workers.splice(0).map((w) => w.kill()));
      stack.sim.releaseCreates();
      workers.push(await stack.startWorker(), await stack.startWorker());
      return held;
    }

    it(
      `keeps the key's ceiling and dials nobody twice through ${size.workerKills} worker SIGKILLs`,
      { timeout: (faultsSize === 'large' ? 40 : 25) * 60_000 },
      async () => {
        const start = (name: string, first: number) =>
          stack.client.workflow.start(callCampaignWorkflow, {
            taskQueue: stack.taskQueue,
            workflowId: `faults-${mode.suite}-${name}-${seed}`,
            args: [
              {
                name: `Shared key ${name}`,
                targets: numbers(size.perCampaign, first).map((toPhoneNumber) => ({ toPhoneNumber, objective: 'x' })),
                callsPerMinute: ceiling.limit,
                // Together more than the key allows: the gate, not the campaigns, is what holds the ceiling.
                maxConcurrentCalls: 12,
                timing: { ...timing, rateWindow: `${ceiling.windowMs}ms` },
              },
            ],
          }) as Promise<CampaignHandle>;
        const firsts = [5_000_000 + m * 100_000, 5_050_000 + m * 100_000];
        const campaigns = await Promise.all([start('a', firsts[0]!), start('b', firsts[1]!)]);
        await Promise.all(campaigns.map((h) => waitForProgress(h, (p) => p.state === 'awaiting_approval', 60_000)));
        await Promise.all(
          campaigns.map((h) => h.executeUpdate(approveCampaignUpdate, { args: [{ by: 'faults-suite' }] })),
        );

        // A backend's single calls, one every 1.5 s, while the campaigns dial and the workers die.
        const singleNumbers = numbers(size.singles, 5_090_000 + m * 100_000);
        const singles: Promise<Ending>[] = [];
        let singlesEnded = 0;
        const backend = (async () => {
          for (const [i, toPhoneNumber] of singleNumbers.entries()) {
            const { handle } = await startCall(
              stack.client,
              { toPhoneNumber, objective: 'x', timing },
              { taskQueue: stack.taskQueue, workflowId: `faults-${mode.suite}-single-${seed}-${i}` },
            );
            singles.push(endingOf(handle).finally(() => singlesEnded++));
            await sleep(1_500);
          }
        })();

        // The kills with a create held come early, among the first twice as many kills: later, the campaigns may have
        // dialed everything, and there would be no create left to hold (one CI run had none of its 3).
        const holds = new Set(rng.distinct(size.createKills, 0, Math.min(size.workerKills, 2 * size.createKills) - 1));
        const createsHeld: number[] = [];
        for (let k = 0; k < size.workerKills; k++) {
          await sleep(rng.int(1_000, 3_000));
          if (holds.has(k)) {
            const held = await killWithCreateInFlight();
            createsHeld.push(held);
            if (held > 0) kills.workerWithCreateInFlight++;
            kills.worker += 2;
          } else {
            const victim = workers.splice(rng.int(0, workers.length - 1), 1)[0]!;
            await victim.kill();
            kills.worker++;
            workers.push(await stack.startWorker());
          }
        }
        // A slow run (a loaded machine) is waited for; one that stops making progress fails, saying what every open
        // workflow waits on, long before the test's timeout.
        const countsOf = async (h: CampaignHandle) =>
          JSON.stringify((await h.query(campaignProgressQuery)).counts).replace(/"/g, '');
        const [reports, singleEndings] = await unlessStalled(
          (async () => {
            await backend;
            const ended = (await Promise.all(campaigns.map((h) => h.result()))) as CampaignProgress[];
            return [ended, await Promise.all(singles)] as const;
          })(),
          {
            stallMs: 4 * 60_000,
            progress: async () =>
              [
                ...(await Promise.all(campaigns.map((h) => countsOf(h).catch(() => 'closed')))),
                `singles ended ${singlesEnded}/${size.singles}`,
                `creates ${stack.sim.stats().creates}`,
              ].join('; '),
            diagnose: async () =>
              [`simulator: ${JSON.stringify(stack.sim.stats())}`, await describeOpenWorkflows(stack.client)].join('\n'),
          },
        );

        // At the API: never more than the ceiling in any window, counting every attempt, refused or not.
        const posts = stack.sim.requests().filter((r) => r.method === 'POST');
        const maxAttempts = maxInAnyWindow(
          posts.map((r) => r.at),
          ceiling.windowMs,
        );
        const refused429 = posts.filter((r) => r.status === 429).length;
        const rateLimitedSingles = singleEndings.filter(
          (e) => e.kind === 'failure' && e.type === FailureType.RateLimited,
        ).length;

        // Nobody dialed twice: by the simulator's own record of the calls it created.
        const dialedTwice = Object.keys(stack.sim.redialedNumbers()).length;

        // Every call the API placed is known to a workflow, or its target ended as unknown: nothing placed silently.
        const runs = await fetchAllRuns(stack.client);
        const knownCallIds = new Set(createdCallIds(runs).keys());
        const unknownSingles = singleNumbers.filter((_, i) => {
          const e = singleEndings[i]!;
          return e.kind === 'failure' && e.type === FailureType.CallOutcomeUnknown;
        });
        const unknownTargets = reports.reduce((n, r) => n + r.counts.unknown, 0);
        const unknownNumbers = new Set(unknownSingles);
        for (const [c, handle] of campaigns.entries()) {
          const page = await handle.query(campaignTargetsQuery, { offset: 0, limit: size.perCampaign });
          const own = numbers(size.perCampaign, firsts[c]!);
          [...page.states].forEach((code, i) => code === targetStateCodes.unknown && unknownNumbers.add(own[i]!));
        }
        const orphans = stack.sim.calls().filter((c) => !knownCallIds.has(c.callId));
        const unaccounted = orphans.filter((c) => !unknownNumbers.has(c.toPhoneNumber)).map((c) => c.toPhoneNumber);

        counted.requested = 2 * size.perCampaign + size.singles;
        const pendingLeft = reports.reduce((n, r) => n + r.counts.pending + r.counts.in_flight, 0);
        counted.concluded = counted.requested - pendingLeft;
        counted.duplicates = dialedTwice;
        counted.lost = pendingLeft + unaccounted.length;
        const open = await openWorkflowIds(stack.client);
        counted.stuck = open.length;
        const failures = workflowTaskFailures(runs);

        Object.assign(rows, {
          [`most create attempts in any window at the API (ceiling ${ceiling.limit})`]: {
            value: maxAttempts,
            max: true,
          },
          '429 responses': { value: refused429, mustBeZero: true },
          'single calls failed RateLimited': { value: rateLimitedSingles, mustBeZero: true },
          'ambiguous creates → CallOutcomeUnknown / unknown': { value: unknownSingles.length + unknownTargets },
          'calls placed that no workflow accounts for': { value: unaccounted.length, mustBeZero: true },
        });
        Object.assign(details, {
          idempotency: `workers ${mode.idempotency}, simulator ${mode.simulator}`,
          ceiling,
          createsHeldAtKill: createsHeld,
          campaignCounts: reports.map((r) => r.counts),
          campaignShares: reports.map((r) => r.dialGate),
          singleEndings: singleEndings.map((e) => (e.kind === 'result' ? e.result.outcome : e.type)),
          singleSlotWaitsMs: singleEndings.map((e) => (e.kind === 'result' ? (e.result.waitedForSlotMs ?? 0) : null)),
          orphanCalls: orphans.length,
          simulator: stack.sim.stats(),
          workflowTaskFailuresByCause: failures.byCause,
        });

        expect(kills.workerWithCreateInFlight).toBeGreaterThanOrEqual(1);
        expect(reports.map((r) => r.state)).toEqual(['completed', 'completed']);
        expect(pendingLeft).toBe(0);
        expect(maxAttempts).toBeLessThanOrEqual(ceiling.limit);
        expect(refused429).toBe(0);
        expect(rateLimitedSingles).toBe(0);
        expect(dialedTwice).toBe(0);
        expect(unaccounted).toEqual([]);
        if (mode.idempotency === 'trusted') expect(unknownSingles.length + unknownTargets).toBe(0);
        expect(open).toEqual([]);
        expect(failures.unexpected).toEqual([]);
      },
    );

    it('never writes the API key into a history, a log, a failure message or a file', async () => {
      const final = await finishSuite(stack, () => ({
        suite: mode.suite,
        title: mode.title,
        size: faultsSize,
        seed,
        startedAt: new Date(startedAt).toISOString(),
        durationMs: Date.now() - startedAt,
        command: commandLine('test/faults/shared-key.test.ts'),
        machine: machine(),
        faultsInjected: {
          'worker SIGKILL': kills.worker - 2 * kills.workerWithCreateInFlight,
          'both workers SIGKILLed with a create acted on and unanswered': kills.workerWithCreateInFlight,
        },
        kills,
        targets: counted,
        details,
        rows,
        secretFoundIn: [],
      }));
      expect(final.secretFoundIn).toEqual([]);
    });
  });
}
