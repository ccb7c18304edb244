import { activityInfo, getClient, log } from '@temporalio/activity';
import { type Client, ServiceError } from '@temporalio/client';
import { ApplicationFailure, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { FailureType } from '../shared/failures';
import type { CallResult } from '../shared/call-types';

/**
 * What earlier runs of this call's workflow id did, so that one id places one call however it is started: again
 * with the default reuse policy from any SDK or the `temporal` CLI, or by `temporal workflow reset`.
 */
export type EarlierCall =
  /** No earlier run created a call, or none exists: this run may dial. */
  | { kind: 'none' }
  /** An earlier run completed: its result is this run's. */
  | { kind: 'completed'; runId: string; result: CallResult }
  /** An earlier run created this call and did not see it to its end: this run follows it instead of dialing. */
  | { kind: 'created'; runId: string; callId: string; createdAtMs: number }
  /** An earlier run sent a create whose answer was lost: dialing again could call the person twice. */
  | { kind: 'unknown'; runId: string; sentAt: string };

const { EventType, WorkflowTaskFailedCause } = temporal.api.enums.v1;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Refusals that prove the API placed nothing: an earlier run that ended so may be dialed again. */
const refusedTypes: string[] = [FailureType.InvalidInput, FailureType.Unauthorized, FailureType.InsufficientCredits];

/** Earlier runs looked at, newest first: enough for every realistic restart pattern, bounded for a hostile one. */
const maxRuns = 20;
/** Runs listed for a prefix match (an id with a backslash) before giving up the search. */
const maxScanned = 2_000;
const grpcUnimplemented = 12;

export function createEarlierCallActivities() {
  return {
    /**
     * Looks at the earlier runs of this workflow id (the base of a reset, and the closed runs that visibility lists)
     * and reports the first that placed a call or may have. Runs closed less than the visibility store's lag
     * earlier (about a second on Elasticsearch, none on the dev server's SQLite) can be missed by the list; a reset's
     * base never is, since it is named in this run's own history.
     */
    async findEarlierCall(): Promise<EarlierCall> {
      const { workflowId, runId } = activityInfo().workflowExecution!;
      const client = getClient();
      const runs = await earlierRuns(client, workflowId, runId);
      for (const earlier of runs) {
        const events = await historyOf(client, workflowId, earlier);
        const found = await callIn(client, events, earlier);
        if (found.kind !== 'none') return found;
      }
      return { kind: 'none' };
    },
  };
}

async function earlierRuns(client: Client, workflowId: string, ownRunId: string): Promise<string[]> {
  const runs: string[] = [];
  // A reset names its base run in the new run's history; bases of bases are followed too.
  let current = ownRunId;
  for (let depth = 0; depth < maxRuns; depth++) {
    const events = await historyOf(client, workflowId, current);
    // A reset of a reset copies the earlier reset's event too: this run's own is the last one.
    const resets = events.filter(
      (e) =>
        e.workflowTaskFailedEventAttributes?.cause ===
        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW,
    );
    const base = resets.at(-1)?.workflowTaskFailedEventAttributes?.baseRunId;
    if (!base || runs.includes(base)) break;
    runs.push(base);
    current = base;
  }
  try {
    let scanned = 0;
    for await (const run of client.workflow.list({ query: runsQuery(workflowId), pageSize: 100 })) {
      if (++scanned > maxScanned) break;
      if (run.workflowId !== workflowId) continue;
      if (run.runId !== ownRunId && !runs.includes(run.runId)) runs.push(run.runId);
      if (runs.length >= maxRuns) break;
    }
  } catch (error) {
    // Only Temporal's time-skipping test server lacks a visibility store; every real server has one.
    if (!(error instanceof ServiceError && (error.cause as { code?: number } | undefined)?.code === grpcUnimplemented))
      throw error;
    log.warn('this server cannot list workflows: only resets are checked for an earlier call', { workflowId });
  }
  return runs;
}

async function historyOf(client: Client, workflowId: string, runId: string): Promise<HistoryEvent[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return history.events ?? [];
}

/** What one run's history says about its create: completed result, created call, unanswered create, or nothing. */
async function callIn(client: Client, events: HistoryEvent[], runId: string): Promise<EarlierCall> {
  const completed = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  const result = completed?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0];
  if (result) return { kind: 'completed', runId, result: (await decode(client, result)) as CallResult };

  const creates = new Map<string, HistoryEvent>();
  let outcome: EarlierCall = { kind: 'none' };
  for (const event of events) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'createCall') creates.set(String(event.eventId), event);
    const answer =
      event.activityTaskCompletedEventAttributes ??
      event.activityTaskFailedEventAttributes ??
      event.activityTaskTimedOutEventAttributes ??
      event.activityTaskCanceledEventAttributes;
    const create = answer?.scheduledEventId === undefined ? undefined : creates.get(String(answer.scheduledEventId));
    if (!create) continue;
    creates.delete(String(answer!.scheduledEventId));
    const done = event.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
    if (done) {
      const value = (await decode(client, done)) as { kind?: string; callId?: string };
      if (value.kind === 'created' && typeof value.callId === 'string') {
        return { kind: 'created', runId, callId: value.callId, createdAtMs: millis(event.eventTime) };
      }
      continue; // rate limited: nothing was placed
    }
    const type =
      event.activityTaskFailedEventAttributes?.failure?.cause?.applicationFailureInfo?.type ??
      event.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo?.type;
    if (type && refusedTypes.includes(type)) continue;
    outcome = { kind: 'unknown', runId, sentAt: new Date(millis(create.eventTime)).toISOString() };
  }
  // A create scheduled and never answered: the run ended (reset, terminated) while it was in flight.
  const unanswered = [...creates.values()][0];
  if (unanswered) return { kind: 'unknown', runId, sentAt: new Date(millis(unanswered.eventTime)).toISOString() };
  return outcome;
}

async function decode(client: Client, payload: Payload): Promise<unknown> {
  const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
  let payloads = [payload];
  for (const codec of [...payloadCodecs].reverse()) payloads = await codec.decode(payloads);
  return payloadConverter.fromPayload(payloads[0]!);
}

function millis(time: temporal.api.history.v1.IHistoryEvent['eventTime']): number {
  if (!time) return 0;
  return Number(time.seconds ?? 0) * 1000 + Math.floor((time.nanos ?? 0) / 1e6);
}

/**
 * The visibility query for every run of `workflowId`. The list filter has no working escape for a backslash, so an
 * id that holds one is found by the prefix before it and matched exactly here; a quote is escaped as `\'`.
 */
export function runsQuery(workflowId: string): string {
  const cut = workflowId.indexOf('\\');
  if (cut === 0) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      message: 'A workflow id that begins with a backslash cannot be checked for earlier calls: choose another id.',
      nonRetryable: true,
    });
  }
  const literal = (value: string) => `'${value.replace(/'/g, "\\'")}'`;
  return cut < 0
    ? `WorkflowId = ${literal(workflowId)}`
    : `WorkflowId STARTS_WITH ${literal(workflowId.slice(0, cut))}`;
}
