import { temporal } from '@temporalio/proto';
import type { HistoryEvent } from './temporal';

const { EventType } = temporal.api.enums.v1;

/**
 * Billable Temporal Cloud Actions recorded in a history, by Temporal's published definition
 * (https://docs.temporal.io/cloud/actions): a workflow start (client start or continue-as-new), each activity
 * scheduled and each retry of it, each timer started (including the implicit timer of `condition` with a timeout),
 * each `UpsertSearchAttributes`, each signal, each accepted update, all local-activity markers of one workflow task as
 * one, and a child workflow start as two (the parent's intent and the child's start). The child's own
 * `WorkflowExecutionStarted` is therefore not counted again. Queries, rejected updates and activity heartbeats never
 * reach a history: they are counted by whoever sends them.
 */
export interface ActionCount {
  total: number;
  events: number;
  byKind: Record<string, number>;
  eventsByType: Record<string, number>;
}

export function countActions(events: readonly HistoryEvent[]): ActionCount {
  const byKind: Record<string, number> = {};
  const eventsByType: Record<string, number> = {};
  const add = (kind: string, n = 1) => {
    if (n > 0) byKind[kind] = (byKind[kind] ?? 0) + n;
  };
  const markerTasks = new Set<string>();
  for (const e of events) {
    const type = e.eventType ?? EventType.EVENT_TYPE_UNSPECIFIED;
    const name = (EventType[type] ?? String(type)).replace(/^EVENT_TYPE_/, '');
    eventsByType[name] = (eventsByType[name] ?? 0) + 1;
    switch (type) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        if (!e.workflowExecutionStartedEventAttributes?.parentWorkflowExecution) {
          add(
            e.workflowExecutionStartedEventAttributes?.continuedExecutionRunId
              ? 'continue-as-new start'
              : 'workflow start',
          );
        }
        break;
      case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        add('child workflow start (×2)', 2);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        add('activity');
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        add('activity retry', (e.activityTaskStartedEventAttributes?.attempt ?? 1) - 1);
        break;
      case EventType.EVENT_TYPE_TIMER_STARTED:
        add('timer');
        break;
      case EventType.EVENT_TYPE_MARKER_RECORDED: {
        const task = String(e.markerRecordedEventAttributes?.workflowTaskCompletedEventId ?? e.eventId);
        if (!markerTasks.has(task)) {
          markerTasks.add(task);
          add('local activities (one per workflow task)');
        }
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        add(
          'local activity retry',
          e.workflowTaskCompletedEventAttributes?.meteringMetadata?.nonfirstLocalActivityExecutionAttempts ?? 0,
        );
        break;
      case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        add('search attribute upsert');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        add('signal');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        add('update');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED:
        add('options updated');
        break;
      case EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED:
      case EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUESTED:
        add('nexus operation');
        break;
    }
  }
  const total = Object.values(byKind).reduce((a, b) => a + b, 0);
  return { total, events: events.length, byKind, eventsByType };
}

/** Sums counts (e.g. the runs of one continued-as-new workflow). */
export function sumCounts(counts: readonly ActionCount[]): ActionCount {
  const out: ActionCount = { total: 0, events: 0, byKind: {}, eventsByType: {} };
  for (const c of counts) {
    out.total += c.total;
    out.events += c.events;
    for (const [k, v] of Object.entries(c.byKind)) out.byKind[k] = (out.byKind[k] ?? 0) + v;
    for (const [k, v] of Object.entries(c.eventsByType)) out.eventsByType[k] = (out.eventsByType[k] ?? 0) + v;
  }
  return out;
}

/** "6 timer, 6 activity, 5 search attribute upsert, …" */
export function describeKinds(byKind: Record<string, number>, digits = 0): string {
  return Object.entries(byKind)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${Number.isInteger(v) ? v : v.toFixed(digits || 2)} ${k}`)
    .join(', ');
}
