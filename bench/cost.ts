/**
 * Benchmark 3: what a call costs in history events and in billable Temporal Cloud Actions, counted from real
 * histories (bench/helpers/actions.ts has the counting rules, after https://docs.temporal.io/cloud/actions).
 *
 * A typical 60 s call (queued 3 s, dialing 5 s, in progress 52 s) on a clock ten times faster (the counts do not
 * depend on the clock: one timer and one read per 10 s poll either way): alone with the package's search attributes
 * (a production namespace), alone without them, as a variant whose status reads are local activities
 * (bench/variants/local-poll-workflow.ts, bundled on its own), and as the targets of a 10-target campaign. Every
 * create passes the key's dial gate, whose own history is counted per create; the package before the gate (commit
 * 1036cbb, bench/helpers/before.ts) runs the same call and campaign beside it, on the same dev server.
 *
 *   npx tsx bench/cost.ts
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { WorkflowClient, WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { createAgentPhoneClient } from '../src/agentphone';
import { startCall } from '../src/calls';
import { startSimulator } from '../src/simulator';
import { createCallWorker } from '../src/worker';
import { callCampaignWorkflow } from '../src/workflows';
import type { PlaceCallInput } from '../src/shared/call-types';
import { type ActionCount, countActions, describeKinds, sumCounts } from './helpers/actions';
import { beforeCommit, loadBeforePackage } from './helpers/before';
import { type GateCost, gateCost } from './helpers/gate';
import { benchNumber, benchTargets } from './helpers/scale';
import {
  historyOf,
  metricsDelta,
  root,
  serverMetrics,
  sleep,
  startDevServer,
  uniqueQueue,
  workflowBundle,
} from './helpers/temporal';
import { approveCampaignUpdate, campaignProgressQuery } from '../src/shared/messages';

/** The contract's durations divided by 10: a 60 s call lasts 6 s, a poll comes every second. */
const tenfold = { pollInterval: '1s', callTimeout: '30s', rateLimitWait: '6s', enrichmentInterval: '200ms' } as const;

export interface CallCost extends ActionCount {
  polls: number;
}

export interface CostResult {
  /** placeCallWorkflow, namespace with the package's search attributes (as after `npm run setup:temporal`). */
  indexed: CallCost;
  /** Runs of the first row, and whether they all gave the same counts. */
  indexedRepeats: number;
  indexedRepeatsIdentical: boolean;
  /** placeCallWorkflow, namespace without them. */
  unindexed: CallCost;
  /** The variant: status reads as local activities (no search attributes either). */
  localReads: CallCost;
  campaign: CampaignCostFigures;
  /** The key's dial gate over every create of this run: its own histories, per create. */
  gate?: GateCost;
  /** Queries, signals and updates the workers sent (server metrics, less this benchmark's own), per gated create. */
  gateMessages?: { queries: number; signals: number; updates: number; creates: number };
  /** The package before the gate: the first row's call and the campaign, same load. */
  before?: { commit: string; indexed: CallCost; campaign: CampaignCostFigures };
}

export interface CampaignCostFigures {
  targets: number;
  parent: ActionCount;
  child: ActionCount;
  overheadActions: number;
  overheadEvents: number;
  perTargetActions: number;
  perTargetEvents: number;
}

export async function runCostBench(log: (line: string) => void = console.log): Promise<CostResult> {
  const [env, sim, bundle, variantBundle] = await Promise.all([
    startDevServer(),
    startSimulator({
      progress: 'time',
      timeScale: 1 / 10,
      durations: { queuedMs: 3000, dialingMs: 5000, inProgressMs: 52_000 },
      credits: Number.POSITIVE_INFINITY,
      // Cost, not pacing, is measured here: a dozen creates at once must not meet the limit.
      rateLimit: { limit: 10_000, windowMs: 60_000 },
    }),
    workflowBundle(),
    workflowBundle(join(root, 'bench', 'variants', 'local-poll-workflow.ts')),
  ]);
  const agentPhone = createAgentPhoneClient({ apiKey: sim.apiKey, baseUrl: sim.baseUrl });
  const queues = {
    indexed: uniqueQueue('cost-indexed'),
    unindexed: uniqueQueue('cost-unindexed'),
    variant: uniqueQueue('cost-variant'),
    before: uniqueQueue('cost-before'),
  };
  // The campaign runs at the API's 10 a minute in a tenfold-compressed 6 s minute; every worker of the key says so
  // (the gate keeps the strictest ceiling any of them reports).
  const rateLimit = { count: 10, windowMs: 6_000 };
  const old = loadBeforePackage();
  const oldBundle = await workflowBundle(old.workflowsPath);
  const workers = [
    await createCallWorker({
      connection: env.nativeConnection,
      taskQueue: queues.indexed,
      agentPhone,
      rateLimit,
      worker: { workflowBundle: bundle },
    }),
    await createCallWorker({
      connection: env.nativeConnection,
      taskQueue: queues.unindexed,
      agentPhone,
      searchAttributes: false,
      rateLimit,
      // One process cannot run two workers on one task queue, so this one's gate worker polls a queue of its own;
      // the key still has one gate, on the queue of whichever worker started it.
      gate: { taskQueue: uniqueQueue('cost-gate') },
      worker: { workflowBundle: bundle },
    }),
    await old.createCallWorker({
      connection: env.nativeConnection,
      taskQueue: queues.before,
      agentPhone: old.createAgentPhoneClient({ apiKey: sim.apiKey, baseUrl: sim.baseUrl }),
      worker: { workflowBundle: oldBundle },
    }),
    await Worker.create({
      connection: env.nativeConnection,
      taskQueue: queues.variant,
      workflowBundle: variantBundle,
      activities: createActivities({ client: agentPhone }),
    }),
  ];
  const running = workers.map((w) => w.run());
  try {
    const input = (i: number): PlaceCallInput => ({
      toPhoneNumber: `+1415${String(3_000_000 + i).padStart(7, '0')}`,
      objective: 'Ask about their return policy',
      businessName: 'Acme Outdoor',
      timing: tenfold,
    });
    type Start = (...args: Parameters<typeof startCall>) => Promise<{ handle: WorkflowHandle }>;
    const single = async (taskQueue: string, i: number, start: Start = startCall) => {
      const { handle } = await start(env.client, input(i), { workflowId: `bench-cost-${randomUUID()}`, taskQueue });
      const result = (await handle.result()) as { polls: number };
      return { ...countActions(await historyOf(handle)), polls: result.polls };
    };
    const variant = async () => {
      const handle = await env.client.workflow.start('localPollCallWorkflow', {
        taskQueue: queues.variant,
        workflowId: `bench-cost-variant-${randomUUID()}`,
        args: [input(100)],
      });
      const result = (await handle.result()) as { polls: number };
      return { ...countActions(await historyOf(handle)), polls: result.polls };
    };
    const m0 = await serverMetrics(env);
    const [indexedRuns, unindexed, localReads, campaign, beforeIndexed, beforeCampaign] = await Promise.all([
      Promise.all([0, 1, 2].map((i) => single(queues.indexed, i))),
      single(queues.unindexed, 10),
      variant(),
      campaignCost(env.client.workflow, queues.indexed, 4_000_000),
      single(queues.before, 20, old.startCall),
      campaignCost(env.client.workflow, queues.before, 4_100_000),
    ]);
    const gate = await gateCost(env.client, sim.apiKey);
    await sleep(1500); // the server publishes its counters about once a second
    const server = metricsDelta(m0, await serverMetrics(env));
    const gateMessages = {
      queries: (server.requests.QueryWorkflow ?? 0) - ownQueries.count,
      signals: (server.requests.SignalWorkflowExecution ?? 0) + (server.requests.SignalWithStartWorkflowExecution ?? 0),
      // less the two campaigns' approvals
      updates: (server.requests.UpdateWorkflowExecution ?? 0) - 2,
      creates: gate.claims,
    };
    const indexed = indexedRuns[0]!;
    const identical = indexedRuns.every((r) => r.total === indexed.total && r.events === indexed.events);
    if (!identical)
      log(`  note: repeats differ: ${indexedRuns.map((r) => `${r.total} actions/${r.events} events`).join(', ')}`);
    const result: CostResult = {
      indexed,
      indexedRepeats: indexedRuns.length,
      indexedRepeatsIdentical: identical,
      unindexed,
      localReads,
      campaign,
      gate,
      gateMessages,
      before: { commit: beforeCommit, indexed: beforeIndexed, campaign: beforeCampaign },
    };
    describeCost(result).forEach((line) => log(`  ${line}`));
    return result;
  } finally {
    workers.forEach((w) => w.shutdown());
    await Promise.all(running);
    await sim.close();
    await env.teardown();
    old.remove();
  }
}

/** Queries this benchmark sends itself (waiting for a campaign's approval state), told apart from the workers'. */
const ownQueries = { count: 0 };

/** A 10-target campaign on `taskQueue` (this package's worker or the old one's), counted from its histories. */
async function campaignCost(
  client: WorkflowClient,
  taskQueue: string,
  firstNumber: number,
): Promise<CampaignCostFigures> {
  const targets = 10;
  const handle = await client.start(callCampaignWorkflow, {
    taskQueue,
    workflowId: `bench-cost-campaign-${randomUUID().slice(0, 8)}`,
    args: [
      {
        name: 'Cost',
        targets: benchTargets(targets).map((t, i) => ({
          ...t,
          toPhoneNumber: benchNumber(firstNumber + i),
        })),
        callsPerMinute: 10,
        maxConcurrentCalls: 10,
        timing: { ...tenfold, rateWindow: '6s' },
      },
    ],
  });
  for (let i = 0; i < 600; i++) {
    ownQueries.count++;
    const p = await handle.query(campaignProgressQuery).catch(() => undefined);
    if (p?.state === 'awaiting_approval') break;
    await sleep(100);
  }
  await handle.executeUpdate(approveCampaignUpdate, { args: [{ by: 'bench' }] });
  const report = await handle.result();
  if (report.counts.achieved !== targets) throw new Error(`cost campaign: ${JSON.stringify(report.counts)}`);
  const parentHistory = await historyOf(handle);
  const parent = countActions(parentHistory);
  // Child ids as the campaign made them (the old package spelt them `<campaign>-item-<i>`).
  const childIds = parentHistory.flatMap(
    (e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? [],
  );
  const children = await Promise.all(childIds.map(async (id) => countActions(await historyOf(client.getHandle(id)))));
  const child = meanCount(children);
  const overheadActions = parent.total - 2 * targets;
  // Per target in the parent: the child's start (initiated, started), its completion, and the task that saw it.
  const overheadEvents = parent.events - targets * 3;
  return {
    targets,
    parent,
    child,
    overheadActions,
    overheadEvents,
    perTargetActions: 2 + child.total,
    perTargetEvents: child.events + 3,
  };
}

function meanCount(counts: ActionCount[]): ActionCount {
  const sum = sumCounts(counts);
  const div = (r: Record<string, number>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v / counts.length]));
  return {
    total: sum.total / counts.length,
    events: sum.events / counts.length,
    byKind: div(sum.byKind),
    eventsByType: div(sum.eventsByType),
  };
}

export function describeCost(r: CostResult): string[] {
  const c = r.campaign;
  return [
    `placeCallWorkflow, 60 s call, ${r.indexed.polls} polls, with search attributes: ${r.indexed.total} actions, ${r.indexed.events} events (${describeKinds(r.indexed.byKind)})`,
    `  without search attributes: ${r.unindexed.total} actions, ${r.unindexed.events} events (${describeKinds(r.unindexed.byKind)})`,
    `  status reads as local activities (variant, no search attributes): ${r.localReads.total} actions, ${r.localReads.events} events (${describeKinds(r.localReads.byKind)})`,
    `campaign of ${c.targets}: per target ${c.perTargetActions.toFixed(1)} actions, ~${c.perTargetEvents.toFixed(0)} events; ` +
      `overhead ${c.overheadActions} actions (${describeKinds(subtractChildStarts(c.parent.byKind, c.targets))}), ~${c.overheadEvents} events`,
    `  one campaign call (child): ${c.child.total.toFixed(1)} actions besides its start (${describeKinds(c.child.byKind, 1)}), ${c.child.events.toFixed(0)} events`,
    ...(r.gate
      ? [
          `dial gate: ${r.gate.claims} creates, ${r.gate.count.total} actions / ${r.gate.count.events} events over ${r.gate.runs} run(s) = ` +
            `${r.gate.perCreate.total.toFixed(2)} actions and ${r.gate.perCreate.events.toFixed(1)} events per create (${describeKinds(r.gate.perCreate.byKind, 2)})` +
            (r.gateMessages
              ? `; the workers sent ${(r.gateMessages.queries / Math.max(1, r.gateMessages.creates)).toFixed(1)} queries a create`
              : ''),
        ]
      : []),
    ...(r.before
      ? [
          `before the gate (${r.before.commit}): the call ${r.before.indexed.total} actions, ${r.before.indexed.events} events ` +
            `(${describeKinds(r.before.indexed.byKind)}); a campaign target ${r.before.campaign.perTargetActions.toFixed(1)} actions, ` +
            `~${r.before.campaign.perTargetEvents.toFixed(0)} events; campaign overhead ${r.before.campaign.overheadActions} actions`,
        ]
      : []),
  ];
}

function subtractChildStarts(byKind: Record<string, number>, targets: number): Record<string, number> {
  const out = { ...byKind };
  const key = 'child workflow start (×2)';
  out[key] = (out[key] ?? 0) - 2 * targets;
  if (!out[key]) delete out[key];
  return out;
}

if (require.main === module) {
  runCostBench().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
