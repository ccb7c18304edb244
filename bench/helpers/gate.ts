import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { gateWorkflowId } from '../../src/activities/dial-gate-client';
import { createAgentPhoneClient } from '../../src/agentphone';
import { claimDialSlotUpdate, dialGateQuery } from '../../src/shared/dial-gate';
import { type ActionCount, countActions, sumCounts } from './actions';
import { quantile } from './stats';
import { type HistoryEvent, historyOf } from './temporal';

const { EventType } = temporal.api.enums.v1;

/** The key's dial gate workflow id, as every worker holding the key computes it. */
export const gateIdOf = (apiKey: string) => gateWorkflowId(createAgentPhoneClient({ apiKey }).keyFingerprint!);

/**
 * Every run of a workflow, newest first, followed back through continue-as-new from the latest run's start event
 * (no visibility query, so no visibility lag).
 */
export async function historiesOfAllRuns(client: Client, workflowId: string): Promise<HistoryEvent[][]> {
  const runs: HistoryEvent[][] = [];
  let runId: string | undefined = (await client.workflow.getHandle(workflowId).describe()).runId;
  while (runId) {
    const events = await historyOf(client.workflow.getHandle(workflowId, runId));
    runs.push(events);
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
  }
  return runs;
}

/** What the key's gate cost over its whole life: its own histories, against the creates it let through. */
export interface GateCost {
  runs: number;
  /** Creates that claimed a slot (the gate's own count, carried across its runs). */
  claims: number;
  /** 429s reported to it. */
  rateLimited: number;
  /** Claims that came after their offer had expired: the caller joined the line again. */
  lapsed: number;
  count: ActionCount;
  /** `count` divided by `claims`. */
  perCreate: ActionCount;
  /**
   * How busy the gate workflow was: it handles one workflow task at a time, so its workflow tasks per create and
   * the time each takes (scheduled → completed, on the server's clock) bound the creates it can pass per second.
   */
  tasks: {
    total: number;
    perCreate: number;
    p50Ms: number;
    p99Ms: number;
    /** Share of the gate's life (first to last event) during which one of its workflow tasks was outstanding. */
    busy: number;
    timedOut: number;
    failed: number;
  };
}

/** `during`: the interval (ms epoch) over which `tasks.busy` is measured; by default the gate's whole life. */
export async function gateCost(client: Client, apiKey: string, during?: [number, number]): Promise<GateCost> {
  const workflowId = gateIdOf(apiKey);
  const histories = await historiesOfAllRuns(client, workflowId);
  const count = sumCounts(histories.map(countActions));
  // The gate's own totals; if it cannot answer (busy), the claims in its histories.
  const totals = await client.workflow
    .getHandle(workflowId)
    .query(dialGateQuery)
    .then((s) => s.totals)
    .catch(() => ({ claims: claimsIn(histories), rateLimited: Number.NaN }));
  const n = Math.max(1, totals.claims);
  const per = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v / n]));
  return {
    runs: histories.length,
    claims: totals.claims,
    rateLimited: totals.rateLimited,
    lapsed: lapsedIn(histories),
    count,
    perCreate: {
      total: count.total / n,
      events: count.events / n,
      byKind: per(count.byKind),
      eventsByType: per(count.eventsByType),
    },
    tasks: taskFigures(histories, n, during),
  };
}

function taskFigures(histories: HistoryEvent[][], creates: number, during?: [number, number]): GateCost['tasks'] {
  const durations: number[] = [];
  let busyMs = 0;
  let lifeMs = 0;
  let timedOut = 0;
  let failed = 0;
  for (const events of histories) {
    const scheduledAt = new Map<number, number>();
    for (const e of events) {
      const at = tsToMs(e.eventTime);
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) scheduledAt.set(Number(e.eventId), at);
      const scheduledId =
        e.workflowTaskCompletedEventAttributes?.scheduledEventId ??
        e.workflowTaskTimedOutEventAttributes?.scheduledEventId ??
        e.workflowTaskFailedEventAttributes?.scheduledEventId;
      if (scheduledId === undefined || scheduledId === null) continue;
      const from = scheduledAt.get(Number(scheduledId));
      if (from !== undefined) {
        durations.push(at - from);
        busyMs += during ? Math.max(0, Math.min(at, during[1]) - Math.max(from, during[0])) : at - from;
      }
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) timedOut++;
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) failed++;
    }
    if (events.length) lifeMs += tsToMs(events.at(-1)!.eventTime) - tsToMs(events[0]!.eventTime);
  }
  if (during) lifeMs = during[1] - during[0];
  return {
    total: durations.length,
    perCreate: durations.length / creates,
    p50Ms: quantile(durations, 0.5),
    p99Ms: quantile(durations, 0.99),
    busy: lifeMs > 0 ? busyMs / lifeMs : Number.NaN,
    timedOut,
    failed,
  };
}

function claimsIn(histories: HistoryEvent[][]): number {
  return histories
    .flat()
    .filter(
      (e) =>
        e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === claimDialSlotUpdate.name,
    ).length;
}

function lapsedIn(histories: HistoryEvent[][]): number {
  let lapsed = 0;
  for (const e of histories.flat()) {
    const payload = e.workflowExecutionUpdateCompletedEventAttributes?.outcome?.success?.payloads?.[0]?.data;
    if (!payload) continue;
    try {
      if ((JSON.parse(Buffer.from(payload).toString('utf8')) as { kind?: string }).kind === 'lapsed') lapsed++;
    } catch {
      // not a claim's answer
    }
  }
  return lapsed;
}
