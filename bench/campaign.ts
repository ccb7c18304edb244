/**
 * Benchmark 1: a campaign's makespan against the API's ceiling, and the contract's sequential loop beside it.
 *
 * One API minute lasts one second: the simulator runs in time mode with `timeScale: 1/60` (its 10-a-minute window
 * becomes 10 a second), the campaign gets `callsPerMinute: 10` with `timing.rateWindow: '1s'` and the contract's other
 * durations divided by 60, and no `timing.rateMargin`: every create passes the key's dial gate (on by default, with
 * `rateLimit` at the same scale). A Temporal dev server (`findTemporalBinary('cli')`,
 * `TestWorkflowEnvironment.createLocal`) and an in-process worker (`createCallWorker`, the package's defaults) run
 * the campaign; the approval is an update.
 *
 *   npx tsx bench/campaign.ts [--targets 1000] [--repeats 3] [--sequential 150]
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { tsToMs } from '@temporalio/common/lib/time';
import { createAgentPhoneClient } from '../src/agentphone';
import { type RequestLogEntry, startSimulator } from '../src/simulator';
import { createCallWorker } from '../src/worker';
import type { ContactPolicyDeps } from '../src/activities';
import { callCampaignWorkflow } from '../src/workflows';
import type { CampaignProgress } from '../src/shared/campaign-types';
import { type ActionCount, countActions, describeKinds, sumCounts } from './helpers/actions';
import { runTsChild } from './helpers/child';
import { type GateCost, gateCost } from './helpers/gate';
import { loadAverage } from './helpers/machine';
import { apiTime, benchTargets, minuteScale, ms } from './helpers/scale';
import type { SequentialResult } from './sequential-loop';
import { formatSpread, maxInAnyWindow, mean, median, perWindow, quantile, spread, type Spread } from './helpers/stats';
import {
  type HistoryEvent,
  historyOf,
  mapLimit,
  metricsDelta,
  serverMetrics,
  sleep,
  startDevServer,
  uniqueQueue,
  within,
  workflowBundle,
} from './helpers/temporal';
import { approveCampaignUpdate, campaignProgressQuery } from '../src/shared/messages';

const { EventType } = temporal.api.enums.v1;

export interface CampaignBenchOptions {
  targets: number;
  repeats: number;
  /** Targets the sequential loop runs beside each repeat (it takes ~0.7 s each: 1,000 would take 11 minutes). */
  sequentialTargets: number;
  /** Large enough that concurrency never binds (see `concurrencyNeeded`). */
  maxConcurrentCalls: number;
  /** No repeat starts that would end after this many seconds (judged by the previous repeat). */
  budgetSeconds?: number;
  /** The contact policy and store the worker checks before every create (bench/policy-makespan.ts). @default none */
  contacts?: ContactPolicyDeps;
  log?: (line: string) => void;
}

export interface CampaignRepeat {
  /** False when the campaign had not ended within the repeat's time limit: the figures are those until then. */
  finished: boolean;
  makespanMs: number;
  idealMs: number;
  ratio: number;
  /** Approval → first create, first → last create, last create → campaign result. */
  phases: { startMs: number; pacingMs: number; tailMs: number };
  status429: number;
  /** Of those, 429s on a target's very first create (the others met a child's retry 60 s (scaled) later, or a redial). */
  status429FirstTry: number;
  creates: number;
  maxCreatesInWindow: number;
  /**
   * From the campaign's history, on the workflow's clock: children started in any window. With the key's dial gate
   * the campaign does not pace its starts (up to maxConcurrentCalls wait in the gate's line); without it, its pacer
   * held this to the limit.
   */
  maxChildStartsInWindow: number;
  /** A child's start (its parent's workflow task) to its first create at the simulator: the wait in line included. */
  startToCreateMs: { p50: number; p99: number; max: number };
  /** Arrival spread of one burst's accepted creates at the simulator (first to last). */
  burstSpreadMs: { p50: number; max: number };
  createsPerWindow: number[];
  /** 429 answers per window, same windows. */
  refusedPerWindow: number[];
  peakInFlight: number;
  runs: number;
  achieved: number;
  loadAverage: [number, number, number];
  sequential: SequentialResult & { projectedMakespanMs: number; ratioToCampaign: number; createsPerWindow: number[] };
}

export interface CampaignCost {
  campaign: ActionCount;
  runs: number;
  childStarts: number;
  /** Mean over a sample of the campaign's calls (each ~34 s of API time: 4 reads at 10 s). */
  child: ActionCount;
  childSample: number;
  overheadActions: number;
  perTargetActions: number;
  perTargetEvents: number;
}

export interface CampaignBenchResult {
  options: Omit<CampaignBenchOptions, 'log'>;
  repeats: CampaignRepeat[];
  ratio: Spread;
  makespanMs: Spread;
  sequentialRatio: Spread;
  maxCreatesInWindow: number;
  status429: number;
  peakInFlight: number;
  idealMs: number;
  strictBoundMs: number;
  cost?: CampaignCost;
  /** The key's dial gate over all repeats: its own actions and events per create. */
  gate?: GateCost;
  /**
   * Messages the workers sent to Temporal over all repeats, from the server's metrics, less this benchmark's own
   * queries: with the gate, a waiting create looks for its offer by query (a Temporal Cloud action, in no history).
   */
  rpc?: { queries: number; signals: number; updates: number; refused: number; creates: number };
}

/** Little's law with a burst: a window's creates all start at once and must end before the next window's start. */
export function concurrencyNeeded(): string {
  const { limit, windowMs, callMs, pollMs } = minuteScale;
  const held = callMs + pollMs; // a call is followed until the first read after it ends
  return (
    `a call holds its slot ~${ms(held)} (${ms(callMs)} at the API + up to one ${pollMs} ms poll), under the ` +
    `${windowMs} ms window, so at most one window's ${limit} creates are in flight (Little: ${limit} a window × ` +
    `${(held / windowMs).toFixed(2)} windows ≈ ${((limit * held) / windowMs).toFixed(1)} on average); 20 gives 2× headroom ` +
    `for start and result latency`
  );
}

export async function runCampaignBench(options: CampaignBenchOptions): Promise<CampaignBenchResult> {
  const {
    targets: n,
    repeats,
    sequentialTargets,
    maxConcurrentCalls,
    budgetSeconds = Infinity,
    contacts,
    log = console.log,
  } = options;
  const began = Date.now();
  const { timeScale, windowMs, limit, callMs } = minuteScale;
  const idealMs = Math.ceil(n / limit) * windowMs + callMs;
  const strictBoundMs = (Math.ceil(n / limit) - 1) * windowMs + callMs;
  const targets = benchTargets(n);

  const [env, sim, bundle] = await Promise.all([
    startDevServer(),
    startSimulator({ progress: 'time', timeScale, credits: Number.POSITIVE_INFINITY }),
    workflowBundle(),
  ]);
  const taskQueue = uniqueQueue('campaign');
  const worker = await createCallWorker({
    connection: env.nativeConnection,
    taskQueue,
    agentPhone: createAgentPhoneClient({ apiKey: sim.apiKey, baseUrl: sim.baseUrl }),
    // The key's ceiling at this scale: the API's 10 a minute, in a one-second minute.
    rateLimit: { count: minuteScale.limit, windowMs: minuteScale.windowMs },
    worker: { workflowBundle: bundle },
    ...(contacts ? { contacts } : {}),
  });
  const running = worker.run();
  let ownQueries = 0;
  const m0 = await serverMetrics(env);
  const results: CampaignRepeat[] = [];
  let cost: CampaignCost | undefined;
  let gate: GateCost | undefined;
  let rpc: CampaignBenchResult['rpc'];
  // From the first repeat's approval to the last one's result: when the gate had work.
  let active: [number, number] | undefined;
  try {
    for (let r = 0; r < repeats; r++) {
      const perRepeatMs = results.length ? (Date.now() - began) / results.length : 0;
      if (r > 0 && (Date.now() - began + perRepeatMs) / 1000 > budgetSeconds) {
        log(`  stopping after ${r} repeat(s): another would exceed the section's budget of ${budgetSeconds} s`);
        break;
      }
      sim.reset();
      const workflowId = `bench-campaign-${r + 1}-${randomUUID().slice(0, 8)}`;
      const handle = await env.client.workflow.start(callCampaignWorkflow, {
        taskQueue,
        workflowId,
        args: [
          {
            name: `Benchmark ${n}`,
            targets,
            callsPerMinute: limit,
            maxConcurrentCalls,
            timing: minuteScale.timing,
            approval: { timeout: '1h' },
          },
        ],
      });
      await waitFor(
        () => (ownQueries++, handle.query(campaignProgressQuery)),
        (p) => p.state === 'awaiting_approval',
      );
      const load = loadAverage();

      // Side by side: the contract's loop starts with the campaign, in its own process, on its own simulator.
      const sequential = runTsChild('sequential-loop.ts', ['--targets', String(sequentialTargets), '--json']);
      let peakInFlight = 0;
      let watching = true;
      const watch = (async () => {
        while (watching) {
          try {
            ownQueries++;
            peakInFlight = Math.max(peakInFlight, (await handle.query(campaignProgressQuery)).counts.in_flight);
          } catch {
            // between two runs (continue-as-new)
          }
          await sleep(250);
        }
      })();
      const t0 = Date.now();
      await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'bench', comment: 'benchmark' }] });
      // A campaign that takes three times the ideal (and a minute) is stopped: its figures are those until then.
      const limitMs = 3 * idealMs + 60_000;
      const ended = await within(handle.result(), limitMs);
      const report = ended ?? (ownQueries++, await handle.query(campaignProgressQuery));
      const t1 = Date.now();
      active = [active?.[0] ?? t0, t1];
      watching = false;
      await watch;
      if (!ended) {
        log(`  repeat ${r + 1}: the campaign had not ended after ${ms(limitMs)}; stopped there (no further repeats)`);
        await handle.terminate('benchmark time limit');
      }
      const seq = JSON.parse((await sequential.done).at(-1)!) as SequentialResult;

      const requests = sim.requests();
      const log429 = requests.filter((q) => q.status === 429).length;
      const pacer = await pacerAnalysis(env.client, workflowId, requests);
      // The instants the simulator's rate limiter counted: each call's creation (a request's arrival precedes it).
      const creates = sim.calls().map((call) => call.createdAt);
      const first = Math.min(...creates);
      const last = Math.max(...creates);
      const windows = Math.floor((last - first) / windowMs) + 1;
      const makespanMs = t1 - t0;
      const seqPerCall = median(seq.perCallMs);
      const projectedMakespanMs = seq.targets >= n ? seq.makespanMs : mean(seq.perCallMs) * n;
      const seqFirst = Math.min(...seq.createTimes);
      const repeat: CampaignRepeat = {
        finished: ended !== undefined,
        makespanMs,
        idealMs,
        ratio: makespanMs / idealMs,
        phases: { startMs: first - t0, pacingMs: last - first, tailMs: t1 - last },
        status429: log429,
        status429FirstTry: pacer.first429,
        creates: creates.length,
        maxCreatesInWindow: maxInAnyWindow(creates, windowMs),
        maxChildStartsInWindow: pacer.maxChildStartsInWindow,
        startToCreateMs: pacer.startToCreateMs,
        burstSpreadMs: burstSpread(creates, windowMs),
        createsPerWindow: perWindow(creates, first, windowMs, windows),
        refusedPerWindow: perWindow(
          requests.filter((q) => q.status === 429).map((q) => q.at),
          first,
          windowMs,
          windows,
        ),
        peakInFlight,
        runs: report.runs,
        achieved: report.counts.achieved,
        loadAverage: load,
        sequential: {
          ...seq,
          projectedMakespanMs,
          ratioToCampaign: projectedMakespanMs / makespanMs,
          createsPerWindow: perWindow(
            seq.createTimes,
            seqFirst,
            windowMs,
            Math.floor((Math.max(...seq.createTimes) - seqFirst) / windowMs) + 1,
          ),
        },
      };
      results.push(repeat);
      log(
        `  repeat ${r + 1}/${repeats}${ended ? '' : ' (NOT ENDED)'}: makespan ${ms(makespanMs)} (API ${apiTime(makespanMs)}) = ${repeat.ratio.toFixed(3)} × ideal ` +
          `${ms(idealMs)}; ${repeat.creates} creates, ${log429} × 429, max ${repeat.maxCreatesInWindow} in any ${windowMs} ms window, ` +
          `peak ${peakInFlight} in flight, ${report.runs} run(s), ${report.counts.achieved} achieved; ` +
          `max ${pacer.maxChildStartsInWindow} child starts in any window, start→create p50 ${ms(pacer.startToCreateMs.p50)} ` +
          `p99 ${ms(pacer.startToCreateMs.p99)}, burst spread max ${ms(repeat.burstSpreadMs.max)}; ` +
          `sequential loop ${seq.targets} targets, ${ms(seqPerCall)} a call → ${ms(projectedMakespanMs)} for ${n} ` +
          `(${repeat.sequential.ratioToCampaign.toFixed(2)} × the campaign)`,
      );
      if (report.counts.achieved !== n)
        log(`  WARNING: ${report.counts.achieved} of ${n} achieved: ${JSON.stringify(report.counts)}`);

      if (!ended) break;
      if (r === 0) {
        cost = await campaignCost(env.client, pacer.histories);
        log(
          `  cost at scale: campaign ${cost.campaign.total} actions / ${cost.campaign.events} events over ${cost.runs} run(s) ` +
            `(${cost.overheadActions} overhead, ${cost.campaign.byKind.timer ?? 0} pacer/approval timers); ` +
            `per target ${cost.perTargetActions.toFixed(1)} actions (child: ${describeKinds(cost.child.byKind, 1)})`,
        );
      }
    }
    await sleep(1500); // the server publishes its counters about once a second
    const server = metricsDelta(m0, await serverMetrics(env));
    rpc = {
      queries: (server.requests.QueryWorkflow ?? 0) - ownQueries,
      signals: (server.requests.SignalWorkflowExecution ?? 0) + (server.requests.SignalWithStartWorkflowExecution ?? 0),
      // less the approval of each repeat
      updates: (server.requests.UpdateWorkflowExecution ?? 0) - results.length,
      refused: Object.values(server.resourceExhausted).reduce((a, b) => a + b, 0),
      creates: results.reduce((a, r) => a + r.creates, 0),
    };
    log(
      `  messages to Temporal: ${rpc.queries} queries (${(rpc.queries / Math.max(1, rpc.creates)).toFixed(1)} a create), ` +
        `${rpc.signals} signals, ${rpc.updates} updates; ${rpc.refused} refused as RESOURCE_EXHAUSTED`,
    );
    gate = await gateCost(env.client, sim.apiKey, active).catch((error: unknown) => {
      log(`  the gate's histories could not be read: ${String(error)}`);
      return undefined;
    });
    if (gate)
      log(
        `  dial gate over all repeats: ${gate.claims} creates, ${gate.runs} run(s), ${gate.perCreate.total.toFixed(2)} actions and ` +
          `${gate.perCreate.events.toFixed(1)} events per create (${describeKinds(gate.perCreate.byKind, 2)}); ` +
          `${gate.tasks.perCreate.toFixed(1)} workflow tasks a create, p50 ${ms(gate.tasks.p50Ms)} p99 ${ms(gate.tasks.p99Ms)}, ` +
          `a task outstanding ${(gate.tasks.busy * 100).toFixed(0)}% of the time, ${gate.tasks.timedOut} timed out, ${gate.lapsed} claims lapsed`,
      );
  } finally {
    worker.shutdown();
    await running;
    await sim.close();
    await env.teardown();
  }

  return {
    options: { targets: n, repeats, sequentialTargets, maxConcurrentCalls, budgetSeconds },
    repeats: results,
    ratio: spread(results.map((r) => r.ratio)),
    makespanMs: spread(results.map((r) => r.makespanMs)),
    sequentialRatio: spread(results.map((r) => r.sequential.ratioToCampaign)),
    maxCreatesInWindow: Math.max(...results.map((r) => r.maxCreatesInWindow)),
    status429: results.reduce((a, r) => a + r.status429, 0),
    peakInFlight: Math.max(...results.map((r) => r.peakInFlight)),
    idealMs,
    strictBoundMs,
    ...(cost ? { cost } : {}),
    ...(gate ? { gate } : {}),
    ...(rpc ? { rpc } : {}),
  };
}

async function waitFor(
  query: () => Promise<CampaignProgress>,
  ok: (p: CampaignProgress) => boolean,
  timeoutMs = 120_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (ok(await query())) return;
    } catch {
      // not picked up by the worker yet
    }
    if (Date.now() > deadline) throw new Error('the campaign never reached the expected state');
    await sleep(100);
  }
}

/**
 * When the campaign started its children, from its own history (every run), and how long after its start each
 * child's create reached the API (with the gate, its wait in the key's line included).
 */
async function pacerAnalysis(client: Client, workflowId: string, requests: readonly RequestLogEntry[]) {
  const runIds: string[] = [];
  const latest = (await client.workflow.getHandle(workflowId).describe()).runId;
  for (let attempt = 0; attempt < 50; attempt++) {
    runIds.length = 0;
    for await (const wf of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runIds.push(wf.runId);
    if (runIds.includes(latest)) break;
    await sleep(200); // visibility lags a moment behind
  }
  const histories = await mapLimit(runIds, 4, (runId) => historyOf(client.workflow.getHandle(workflowId, runId)));
  // The pacer decides on the workflow's clock: the start time of the workflow task that started the child.
  const initiated = new Map<string, number>();
  for (const events of histories) {
    const byId = new Map(events.map((e) => [Number(e.eventId), e]));
    for (const e of events) {
      const attrs = e.startChildWorkflowExecutionInitiatedEventAttributes;
      if (e.eventType !== EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED || !attrs?.workflowId) continue;
      const completed = byId.get(Number(attrs.workflowTaskCompletedEventId));
      const started = byId.get(Number(completed?.workflowTaskCompletedEventAttributes?.startedEventId));
      initiated.set(attrs.workflowId, tsToMs((started ?? e).eventTime));
    }
  }
  // A target's first create: its number appears once per campaign (numbers are distinct).
  const firstPost = new Map<string, RequestLogEntry>();
  for (const r of requests)
    if (r.method === 'POST' && r.toPhoneNumber && !firstPost.has(r.toPhoneNumber)) firstPost.set(r.toPhoneNumber, r);
  const firstPostByIndex = new Map<number, number>();
  for (const [phone, r] of firstPost) firstPostByIndex.set(Number(phone.slice(5)) - 2_000_000, r.at);
  const latencies: number[] = [];
  for (const [id, at] of initiated) {
    const index = /\/item-(\d+)$/.exec(id)?.[1];
    const post = index === undefined ? undefined : firstPostByIndex.get(Number(index));
    if (post !== undefined) latencies.push(post - at);
  }
  return {
    histories,
    maxChildStartsInWindow: maxInAnyWindow([...initiated.values()], minuteScale.windowMs),
    startToCreateMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: Math.max(...latencies) },
    first429: [...firstPost.values()].filter((r) => r.status === 429).length,
  };
}

/** Accepted creates clustered into pacer bursts (a gap of 30% of a window splits them): first-to-last spread. */
function burstSpread(creates: readonly number[], windowMs: number): { p50: number; max: number } {
  const sorted = [...creates].sort((a, b) => a - b);
  const spreads: number[] = [];
  let start = sorted[0] ?? 0;
  for (let i = 1; i <= sorted.length; i++) {
    if (i === sorted.length || sorted[i]! - sorted[i - 1]! > windowMs * 0.3) {
      spreads.push(sorted[i - 1]! - start);
      start = sorted[i] ?? 0;
    }
  }
  return { p50: median(spreads), max: Math.max(...spreads) };
}

/** Actions and events of every run of the campaign, and of a sample of its calls. */
async function campaignCost(client: Client, histories: HistoryEvent[][]): Promise<CampaignCost> {
  const campaign = sumCounts(histories.map(countActions));
  const childIds = histories
    .flat()
    .filter((e) => e.eventType === EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED)
    .map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? '');
  const step = Math.max(1, Math.floor(childIds.length / 20));
  const sample = childIds.filter((_, i) => i % step === 0).slice(0, 20);
  const children = await mapLimit(sample, 4, async (id) =>
    countActions(await historyOf(client.workflow.getHandle(id))),
  );
  const child: ActionCount = {
    total: mean(children.map((c) => c.total)),
    events: mean(children.map((c) => c.events)),
    byKind: averageKinds(children.map((c) => c.byKind)),
    eventsByType: averageKinds(children.map((c) => c.eventsByType)),
  };
  const overheadActions = campaign.total - 2 * childIds.length;
  return {
    campaign,
    runs: histories.length,
    childStarts: childIds.length,
    child,
    childSample: sample.length,
    overheadActions,
    perTargetActions: 2 + child.total,
    perTargetEvents: child.events + campaign.events / Math.max(1, childIds.length),
  };
}

function averageKinds(records: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v / records.length;
  return out;
}

export function describeCampaign(result: CampaignBenchResult): string[] {
  const { options, ratio, sequentialRatio } = result;
  const seq = result.repeats.map((r) => r.sequential);
  return [
    `makespan ÷ ideal: ${formatSpread(ratio, 3)} (ideal ${ms(result.idealMs)} = ⌈${options.targets}/${minuteScale.limit}⌉ windows + one call)`,
    `makespan: ${formatSpread(spread(result.repeats.map((r) => r.makespanMs / 1000)), 1, ' s')} scaled = ${apiTime(result.makespanMs.median)} of API time`,
    `429 responses: ${result.status429}; max creates in any ${minuteScale.windowMs} ms window: ${result.maxCreatesInWindow} (limit ${minuteScale.limit})`,
    `peak calls in flight: ${result.peakInFlight} of maxConcurrentCalls ${options.maxConcurrentCalls}`,
    `sequential loop: ${ms(median(seq.flatMap((s) => s.perCallMs)))} a call (p99 ${ms(
      quantile(
        seq.flatMap((s) => s.perCallMs),
        0.99,
      ),
    )}), ` +
      `${options.targets} targets ≈ ${ms(median(seq.map((s) => s.projectedMakespanMs)))} = ${formatSpread(sequentialRatio, 2)} × the campaign`,
  ];
}

if (require.main === module) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const options = {
    targets: arg('targets', 1000),
    repeats: arg('repeats', 1),
    sequentialTargets: arg('sequential', 150),
    maxConcurrentCalls: 20,
  };
  console.log(`campaign: ${options.targets} targets, ${options.repeats} repeat(s); ${concurrencyNeeded()}`);
  runCampaignBench(options).then(
    (result) => describeCampaign(result).forEach((line) => console.log(line)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
