import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailureType } from '../../src/shared/failures';
import type { Fault, Scenario } from '../../src/simulator';
import { callCampaignWorkflow } from '../../src/workflows';
import {
  createdCallIds,
  fetchAllRuns,
  openWorkflowIds,
  recoveryCounts,
  type RecordedRun,
  replayAll,
  workflowTaskFailures,
} from './support/audit';
import { finishSuite } from './support/finish';
import { commandLine, envInt, type Figures, faultsSize, machine } from './support/figures';
import { distinctiveKey } from './support/secrets';
import { prng, seedFromEnv } from './support/random';
import { retrying, type Stack, startStack, waitForProgress } from './support/stack';
import { callsByNumber, campaignTargets, oneCallScenarios } from './support/targets';
import { approveCampaignUpdate, campaignTargetsQuery } from '../../src/shared/messages';

const large = faultsSize === 'large';
const size = { plain: envInt('FAULTS_API_TARGETS', large ? 300 : 60), bursts: large ? 3 : 1 };
const seed = seedFromEnv();
const apiKey = distinctiveKey('api_faults', prng(seed).hex(6));
// The worker's HTTP timeout at its minimum: every `delay` fault below answers later than the worker waits.
const httpTimeoutMs = 1000;
if (!large)
  console.log('[faults] api-faults: the retry-budget exhaustion cases take minutes each; FAULTS_SIZE=large runs them.');

/** Faults queued at the simulator, in order: each hits the next matching requests, whichever calls send them. */
const createFaults: Fault[] = [
  { on: 'create', kind: 'status500', count: 5 },
  { on: 'create', kind: 'status503', count: 3 },
  { on: 'create', kind: 'reset', count: 3 },
  { on: 'create', kind: 'reset', count: 3, afterCreate: true },
  { on: 'create', kind: 'delay', delayMs: 2500, count: 2 },
  { on: 'create', kind: 'delay', delayMs: 2500, count: 2, afterCreate: true },
  { on: 'create', kind: 'malformedJson', count: 2, afterCreate: true },
  { on: 'create', kind: 'html', count: 2 },
  { on: 'create', kind: 'html', count: 2, afterCreate: true },
];
const getFaults: Fault[] = [
  { on: 'get', kind: 'status500', count: 5 },
  { on: 'get', kind: 'status503', count: 5 },
  { on: 'get', kind: 'reset', count: 5 },
  { on: 'get', kind: 'delay', delayMs: 2500, count: 3 },
  { on: 'get', kind: 'malformedJson', count: 3 },
  { on: 'get', kind: 'html', count: 3 },
];
// Every single-call scenario, and those that end without a call: refused (400), refused for ever (429), endless.
const scenarios: Scenario[] = [...oneCallScenarios, 'neverEnds', 'badRequest', 'rateLimitedAlways'];

const startedAt = Date.now();
let stack: Stack;
const details: Record<string, unknown> = {};
const counted = { concluded: 0, duplicates: 0, lost: 0, stuck: 0 };
const injected: Record<string, number> = {};

beforeAll(async () => {
  stack = await startStack({
    suite: 'api-faults',
    apiKey,
    httpTimeoutMs,
    // A window of one second: its 429s (the rateLimited* scenarios) say Retry-After 1 s, and the dial gate holds
    // every dialer of the key for that long, as it would for the real API's 60 s.
    simulator: { rateLimit: { limit: 2_000, windowMs: 1_000 } },
    // Each scenario's prescribed ending assumes an API that deduplicates retried creates, as the simulator does:
    // the workers trust it. Without that trust, an ambiguous create ends CallOutcomeUnknown (shared-key-no-dedup).
    workerEnv: { AGENTPHONE_IDEMPOTENCY: 'trusted' },
  });
  await stack.startWorker();
}, 180_000);

afterAll(async () => {
  await stack?.close();
});

const label = (f: Fault) =>
  `${f.on} ${f.kind}${f.kind === 'delay' ? ` ${f.delayMs} ms` : ''}${f.afterCreate ? ' after the call is created' : ''}`;

describe('API faults at campaign scale, against the production worker', () => {
  const targets = campaignTargets(size.plain, scenarios, 5_000_000);
  const campaignId = `faults-api-${seed}`;
  let runs: RecordedRun[] = [];

  it(
    'retries reads with backoff, never duplicates a create, and ends what it cannot understand in a typed failure',
    { timeout: 10 * 60_000 },
    async () => {
      const handle = await stack.client.workflow.start(callCampaignWorkflow, {
        taskQueue: stack.taskQueue,
        workflowId: campaignId,
        args: [
          {
            name: 'Faults: API',
            targets: targets.map(({ toPhoneNumber, objective }) => ({ toPhoneNumber, objective })),
            callsPerMinute: 600,
            maxConcurrentCalls: 20,
            // callTimeout: long enough for a call that meets several faults, short enough for neverEnds to end.
            timing: { pollInterval: '200ms', rateLimitWait: '1s', callTimeout: '45s' },
          },
        ],
      });
      await waitForProgress(handle, (p) => p.state === 'awaiting_approval', 120_000);
      for (let burst = 0; burst < size.bursts; burst++) {
        for (const fault of [...createFaults, ...getFaults]) {
          stack.sim.faults.add(fault);
          injected[label(fault)] = (injected[label(fault)] ?? 0) + fault.count;
        }
      }
      await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'faults-suite' }] });
      const report = await retrying('campaign result', () => handle.result(), 8 * 60_000);

      // Every fault queued was served to some request.
      const byKind: Record<string, number> = {};
      for (const fault of [...createFaults, ...getFaults])
        byKind[fault.kind] = (byKind[fault.kind] ?? 0) + fault.count * size.bursts;
      const served = stack.sim.stats().faultsInjected;
      expect(Object.fromEntries(Object.keys(byKind).map((k) => [k, served[k]]))).toEqual(byKind);

      // Each target concluded once, as its scenario says; failures carry one of the package's types.
      expect(report.state).toBe('completed');
      const page = await handle.query(campaignTargetsQuery, { offset: 0, limit: targets.length });
      const wrong = targets.flatMap((t, i) =>
        page.states[i] === t.expected.code ? [] : [`${i} ${t.scenario}: ${page.states[i]} ≠ ${t.expected.code}`],
      );
      counted.concluded = targets.length - [...page.states].filter((s) => s === '.' || s === '>').length;
      counted.lost = wrong.length;
      expect(wrong).toEqual([]);
      const expectedFailures: Record<string, number> = {};
      for (const t of targets) {
        if (t.expected.code === 'F')
          expectedFailures[t.expected.failureType!] = (expectedFailures[t.expected.failureType!] ?? 0) + 1;
      }
      expect(report.failedByType).toEqual(expectedFailures);
      expect(
        Object.keys(report.failedByType).every((type) => (Object.values(FailureType) as string[]).includes(type)),
      ).toBe(true);

      // No create duplicated: the simulator's calls, one per person, and one workflow per call id.
      const byNumber = callsByNumber(stack.sim.calls());
      counted.duplicates = [...byNumber.values()].filter((n) => n > 1).length;
      expect(counted.duplicates).toBe(0);
      const shouldCreate = targets.filter((t) => t.expected.creates);
      expect(shouldCreate.filter((t) => byNumber.get(t.toPhoneNumber) !== 1).map((t) => t.scenario)).toEqual([]);
      expect(targets.filter((t) => !t.expected.creates && byNumber.has(t.toPhoneNumber))).toEqual([]);
      runs = await fetchAllRuns(stack.client);
      const callIds = createdCallIds(runs);
      expect([...callIds.values()].filter((ids) => ids.length > 1)).toEqual([]);
      expect(stack.sim.stats().creates).toBe(callIds.size);
      expect(callIds.size).toBe(shouldCreate.length);

      // Reads were retried after a backoff, not hammered: the next read of a call after a faulted one waits ≥ 1 s.
      const gaps = retryGaps();
      const recovery = recoveryCounts(runs);
      expect(recovery.retriedActivities.getCall ?? 0).toBeGreaterThan(0);
      expect(gaps.length).toBeGreaterThan(0);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(900);

      const failures = workflowTaskFailures(runs);
      const open = await openWorkflowIds(stack.client);
      counted.stuck = open.length;
      Object.assign(details, {
        httpTimeoutMs,
        failedByType: report.failedByType,
        counts: report.counts,
        simulator: stack.sim.stats(),
        callsCreated: callIds.size,
        readRetryGapsMs: {
          count: gaps.length,
          min: Math.min(...gaps),
          median: gaps.sort((a, b) => a - b)[gaps.length >> 1],
        },
        workflowTaskFailuresByCause: failures.byCause,
        ...recovery,
      });
      expect(open).toEqual([]);
      expect(failures.unexpected).toEqual([]);
    },
  );

  it('leaves histories that replay deterministically', { timeout: 5 * 60_000 }, async () => {
    const replay = await replayAll(runs);
    details.replayed = replay.replayed;
    expect(replay.errors).toEqual([]);
  });

  it.skipIf(!large)(
    'ends a call in ApiUnavailable, with no call created, when 5xx outlast the create retries',
    { timeout: 5 * 60_000 },
    async () => {
      await expectSingleCallFailure([{ on: 'create', kind: 'status503', count: 6 }], FailureType.ApiUnavailable, 0);
    },
  );

  it.skipIf(!large)(
    'ends a call in UnexpectedResponse when every read is garbled until the retries run out',
    { timeout: 5 * 60_000 },
    async () => {
      await expectSingleCallFailure(
        [{ on: 'get', kind: 'malformedJson', count: 8 }],
        FailureType.UnexpectedResponse,
        1,
      );
    },
  );

  it('never writes the API key into a history, a log, a failure message or a file', async () => {
    const final = await finishSuite(stack, figuresNow);
    expect(final.secretFoundIn).toEqual([]);
  });
});

/** One call alone with the faults, so that they all hit it; it must fail with `type` after `creates` creates. */
async function expectSingleCallFailure(faults: Fault[], type: FailureType, creates: number): Promise<void> {
  const before = stack.sim.stats().creates;
  faults.forEach((f) => {
    stack.sim.faults.add(f);
    injected[`${label(f)} (single call)`] = (injected[`${label(f)} (single call)`] ?? 0) + f.count;
  });
  const handle = await stack.client.workflow.start('placeCallWorkflow', {
    taskQueue: stack.taskQueue,
    workflowId: `faults-api-single-${type}-${seed}`,
    args: [{ toPhoneNumber: '+14155550142', objective: 'Ask about opening hours', timing: { pollInterval: '200ms' } }],
  });
  const error = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect((cause as ApplicationFailure).type).toBe(type);
  expect((cause as ApplicationFailure).nonRetryable).toBe(true);
  expect(stack.sim.stats().creates - before).toBe(creates);
  stack.sim.faults.clear();
}

/** For each read answered with an error (5xx, reset, 429), how long until the next read of the same call. */
function retryGaps(): number[] {
  const reads = new Map<string, { at: number; status: number | 'reset' }[]>();
  for (const r of stack.sim.requests()) {
    // From the path: a read answered by an injected fault never reached the handler that notes the call id.
    const callId = /^\/api\/v1\/calls\/([^/]+)$/.exec(r.path)?.[1];
    if (r.method !== 'GET' || !callId) continue;
    reads.set(callId, [...(reads.get(callId) ?? []), { at: r.at, status: r.status }]);
  }
  const gaps: number[] = [];
  for (const list of reads.values()) {
    list.sort((a, b) => a.at - b.at);
    for (let i = 0; i + 1 < list.length; i++) {
      const { status } = list[i]!;
      if (status === 'reset' || status === 429 || status >= 500) gaps.push(list[i + 1]!.at - list[i]!.at);
    }
  }
  return gaps;
}

function figuresNow(): Figures {
  const scenariosServed = stack.sim.stats().faultsInjected;
  return {
    suite: 'api-faults',
    title: `${size.plain + scenarios.length}-target campaign through bursts of API faults, worker HTTP timeout ${httpTimeoutMs} ms`,
    size: faultsSize,
    seed,
    startedAt: new Date(startedAt).toISOString(),
    durationMs: Date.now() - startedAt,
    command: commandLine('test/faults/api-faults.test.ts'),
    machine: machine(),
    faultsInjected: {
      ...injected,
      ...Object.fromEntries(
        Object.entries(scenariosServed)
          .filter(([k]) => (scenarios as string[]).includes(k))
          .map(([k, n]) => [`simulator scenario ${k}`, n]),
      ),
    },
    kills: { worker: 0, server: 0, workerWithCreateInFlight: 0 },
    targets: { requested: size.plain + scenarios.length, ...counted },
    details,
    secretFoundIn: [],
  };
}
