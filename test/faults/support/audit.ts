import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { dialGateQuery, dialGateWorkflowType } from '../../../src/shared/dial-gate';
import { root, sleep, workflowBundlePath } from './processes';

type History = temporal.api.history.v1.IHistory;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** One run of one workflow, with its whole history. */
export interface RecordedRun {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  history: History;
}

/** Every run of every workflow in the namespace (closed and open, continued-as-new runs included), with its history. */
export async function fetchAllRuns(client: Client, query?: string): Promise<RecordedRun[]> {
  const infos = [];
  for await (const wf of client.workflow.list(query ? { query } : {})) infos.push(wf);
  const runs: RecordedRun[] = [];
  // A few at a time: the machine is shared, and the dev server answers one SQLite query at a time anyway.
  for (let i = 0; i < infos.length; i += 8) {
    const batch = infos.slice(i, i + 8);
    runs.push(
      ...(await Promise.all(
        batch.map(async (wf) => ({
          workflowId: wf.workflowId,
          runId: wf.runId,
          type: wf.type,
          status: wf.status.name,
          history: await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory(),
        })),
      )),
    );
  }
  return runs;
}

/**
 * Ids of workflows still running: after a campaign has completed, each one is stuck. The API key's dial gate is
 * the one workflow that runs for good by design (it serves every create of the key), so it is not counted.
 */
export async function openWorkflowIds(client: Client): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query: 'ExecutionStatus="Running"' })) {
    if (wf.type !== dialGateWorkflowType) ids.push(wf.workflowId);
  }
  return ids;
}

const causeName = (cause: number | null | undefined) =>
  (temporal.api.enums.v1.WorkflowTaskFailedCause[cause ?? 0] ?? `CAUSE_${cause}`).replace(
    'WORKFLOW_TASK_FAILED_CAUSE_',
    '',
  );

/**
 * Workflow task failures that a worker restart, a server restart or a race with new events explains. Both are
 * protocol-level: the server or the worker asks for the task again at once, no workflow code failed, and the
 * next attempt runs the same code on a full history.
 *  - UNHANDLED_COMMAND: new events (a child's result, an update) arrived while the worker was completing the task
 *    with a command that closes the run (complete, continue-as-new); the server refuses and hands out a new task.
 *  - RESET_STICKY_TASK_QUEUE: a worker got a task for a run it no longer has in its cache (a new worker process,
 *    an eviction) and asks for the full history instead.
 * Every other cause (NON_DETERMINISTIC_ERROR, WORKFLOW_WORKER_UNHANDLED_FAILURE, BAD_*_ATTRIBUTES, *_TOO_LARGE,
 * *_LIMIT_EXCEEDED, ...) means workflow code or its commands are wrong, and counts as a failure here.
 */
export const expectedTaskFailureCauses: ReadonlySet<string> = new Set(['UNHANDLED_COMMAND', 'RESET_STICKY_TASK_QUEUE']);

export interface TaskFailure {
  workflowId: string;
  runId: string;
  cause: string;
  message: string;
}

export function workflowTaskFailures(runs: RecordedRun[]): {
  byCause: Record<string, number>;
  unexpected: TaskFailure[];
} {
  const byCause: Record<string, number> = {};
  const unexpected: TaskFailure[] = [];
  for (const run of runs) {
    for (const event of events(run)) {
      const failed = event.workflowTaskFailedEventAttributes;
      if (!failed) continue;
      const cause = causeName(failed.cause);
      byCause[cause] = (byCause[cause] ?? 0) + 1;
      if (!expectedTaskFailureCauses.has(cause)) {
        unexpected.push({
          workflowId: run.workflowId,
          runId: run.runId,
          cause,
          message: failed.failure?.message ?? '',
        });
      }
    }
  }
  return { byCause, unexpected };
}

/** What the crashes cost, as the histories show it: tasks that timed out on a dead worker, activities retried. */
export function recoveryCounts(runs: RecordedRun[]): {
  workflowTaskTimeouts: number;
  activityRetries: number;
  retriedActivities: Record<string, number>;
} {
  let workflowTaskTimeouts = 0;
  let activityRetries = 0;
  const retriedActivities: Record<string, number> = {};
  for (const run of runs) {
    const scheduled = new Map<string, string>();
    for (const event of events(run)) {
      if (event.workflowTaskTimedOutEventAttributes) workflowTaskTimeouts++;
      const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
      if (name) scheduled.set(String(event.eventId), name);
      const started = event.activityTaskStartedEventAttributes;
      if (started && (started.attempt ?? 1) > 1) {
        const retries = (started.attempt ?? 1) - 1;
        activityRetries += retries;
        const type = scheduled.get(String(started.scheduledEventId)) ?? 'unknown';
        retriedActivities[type] = (retriedActivities[type] ?? 0) + retries;
      }
    }
  }
  // An activity attempt that times out and is retried leaves no event of its own: only the attempt number of the
  // start that finally completed tells how many attempts it took.
  return { workflowTaskTimeouts, activityRetries, retriedActivities };
}

/** Runs whose history holds `secret` anywhere: payloads, failure messages, headers, memo, search attributes. */
export function runsContaining(runs: RecordedRun[], secret: string): string[] {
  const needle = Buffer.from(secret);
  return runs
    .filter((run) => {
      // The wire form holds payload bytes and strings verbatim; the JSON form is searched too, for good measure.
      const binary = Buffer.from(temporal.api.history.v1.History.encode(run.history).finish());
      return binary.includes(needle) || historyToJSON(run.history).includes(secret);
    })
    .map((run) => `${run.workflowId}/${run.runId}`);
}

/**
 * Replays every run with the production workflow bundle (the code the worker ran). A nondeterministic change, or
 * any path the crashes took that replays differently, shows up here.
 */
export async function replayAll(runs: RecordedRun[]): Promise<{ replayed: number; errors: string[] }> {
  const errors: string[] = [];
  let replayed = 0;
  const histories = runs.map((run) => ({ workflowId: run.workflowId, history: run.history }));
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath: workflowBundlePath } },
    histories,
  )) {
    replayed++;
    if (result.error) errors.push(`${result.workflowId}/${result.runId}: ${result.error.message}`);
  }
  return { replayed, errors };
}

/**
 * With RECORD_HISTORIES=1, saves runs under test/histories/faults-<name>.json, with the workflow id beside it in
 * faults-<name>.id (a campaign derives its calls' ids from its own, so it replays only under that id), for
 * test/replay.test.ts to replay in CI.
 */
export function recordHistories(runs: { name: string; run: RecordedRun }[]): string[] {
  if (!process.env.RECORD_HISTORIES) return [];
  const dir = join(root, 'test', 'histories');
  mkdirSync(dir, { recursive: true });
  return runs.flatMap(({ name, run }) => {
    const json = join(dir, `faults-${name}.json`);
    const id = join(dir, `faults-${name}.id`);
    writeFileSync(json, historyToJSON(run.history));
    writeFileSync(id, `${run.workflowId}\n`);
    return [json, id];
  });
}

/** The call ids that createCall activities got back, with the workflows that got each: one workflow per call id. */
export function createdCallIds(runs: RecordedRun[]): Map<string, string[]> {
  const byCallId = new Map<string, string[]>();
  for (const run of runs) {
    const scheduled = new Map<string, string>();
    for (const event of events(run)) {
      const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
      if (name) scheduled.set(String(event.eventId), name);
      const completed = event.activityTaskCompletedEventAttributes;
      if (!completed || scheduled.get(String(completed.scheduledEventId)) !== 'createCall') continue;
      const payload = completed.result?.payloads?.[0];
      const outcome = payload
        ? defaultPayloadConverter.fromPayload<{ kind: string; callId?: string }>(payload)
        : undefined;
      if (outcome?.kind !== 'created' || !outcome.callId) continue;
      byCallId.set(outcome.callId, [...(byCallId.get(outcome.callId) ?? []), run.workflowId]);
    }
  }
  return byCallId;
}

export function events(run: RecordedRun): HistoryEvent[] {
  return run.history.events ?? [];
}

/**
 * What every open workflow is doing, for a suite that stopped making progress: each run's pending activities
 * (type, attempt, last failure), its pending children, and the last events of its history. A hang then fails with
 * the reason in the test's output instead of a bare timeout.
 */
export async function describeOpenWorkflows(client: Client, limit = 12): Promise<string> {
  const lines: string[] = [];
  let listed = 0;
  for await (const wf of client.workflow.list({ query: 'ExecutionStatus="Running"' })) {
    if (++listed > limit) {
      lines.push('… more open workflows not shown');
      break;
    }
    const handle = client.workflow.getHandle(wf.workflowId, wf.runId);
    const d = await handle.describe().catch((error: unknown) => ({ error: String(error) }));
    lines.push(`${wf.type} ${wf.workflowId} (run ${wf.runId})`);
    if ('error' in d) {
      lines.push(`  describe failed: ${d.error}`);
      continue;
    }
    for (const a of d.raw.pendingActivities ?? []) {
      lines.push(
        `  pending activity ${a.activityType?.name} attempt ${a.attempt} state ${a.state}` +
          (a.lastFailure?.message ? `: ${a.lastFailure.message}` : ''),
      );
    }
    for (const c of d.raw.pendingChildren ?? []) lines.push(`  pending child ${c.workflowId}`);
    if (wf.type === dialGateWorkflowType) {
      const gate = await handle.query(dialGateQuery).catch((error: unknown) => String(error));
      lines.push(`  gate: ${JSON.stringify(gate)}`);
    }
    const history = await handle.fetchHistory().catch(() => undefined);
    const tail = (history?.events ?? []).slice(-6).map((e) => {
      const type = temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType);
      return `${String(e.eventId)} ${type.replace('EVENT_TYPE_', '')}`;
    });
    lines.push(`  last events: ${tail.join(', ')}`);
  }
  return lines.join('\n');
}

/**
 * `work`'s value, however long it takes while `progress()` keeps changing; an error carrying `diagnose()`'s account
 * of what everything waits on once `progress()` has not changed for `stallMs`. A loaded machine makes a run slow, a
 * hang makes it still: only the second fails.
 */
export async function unlessStalled<T>(
  work: Promise<T>,
  {
    progress,
    stallMs,
    diagnose,
  }: { progress: () => Promise<string>; stallMs: number; diagnose: () => Promise<string> },
): Promise<T> {
  const done = work.then((value) => ({ value }));
  let last = await progress().catch((error: unknown) => `progress unreadable: ${String(error)}`);
  let changedAt = Date.now();
  for (;;) {
    const first = await Promise.race([done, sleep(5_000).then(() => undefined)]);
    if (first) return first.value;
    const now = await progress().catch((error: unknown) => `progress unreadable: ${String(error)}`);
    if (now !== last) [last, changedAt] = [now, Date.now()];
    else if (Date.now() - changedAt > stallMs) {
      throw new Error(`no progress for ${stallMs} ms (still at ${now}):\n${await diagnose()}`);
    }
  }
}
