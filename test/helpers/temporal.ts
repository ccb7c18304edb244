import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { findTemporalBinary } from '../../src/dev/temporal-binaries';

export const workflowsPath = join(__dirname, '..', '..', 'src', 'workflows', 'index.ts');

/** A time-skipping test server of this file's own: time skipping is server-wide, so files never share one. */
export function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: findTemporalBinary('testServer') } },
  });
}

/** A real dev server (the Temporal CLI), in memory, with this project's search attributes. */
export function createDevServerEnv(extraArgs: string[] = []): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: findTemporalBinary('cli') },
      extraArgs,
    },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundled once per test file: webpack takes seconds, and every test needs a worker. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  return bundle;
}

export const uniqueTaskQueue = (name: string) => `test-${name}-${randomUUID().slice(0, 8)}`;
export const uniqueId = (prefix: string) => `${prefix}-${randomUUID()}`;

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export async function historyOf(handle: WorkflowHandle): Promise<HistoryEvent[]> {
  const history = await handle.fetchHistory();
  return history.events ?? [];
}

/** The durations (ms) of every timer the workflow started, in order. */
export function timerDurations(events: HistoryEvent[]): number[] {
  return events
    .map((e) => e.timerStartedEventAttributes?.startToFireTimeout)
    .filter((d): d is NonNullable<typeof d> => d != null)
    .map((d) => Number(d.seconds ?? 0) * 1000 + Math.round((d.nanos ?? 0) / 1e6));
}

/** Activity types scheduled, in order (local activities appear as markers and are not counted). */
export function scheduledActivities(events: HistoryEvent[]): string[] {
  return events
    .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
    .filter((n): n is string => typeof n === 'string');
}

export const quietLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: (message: string, meta?: unknown) => console.error(message, meta ?? ''),
};

/** With RECORD_HISTORIES=1, saves the history under test/histories/ for test/replay.test.ts to replay in CI. */
export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  const dir = join(__dirname, '..', 'histories');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), historyToJSON(await handle.fetchHistory()));
  // Histories do not hold their workflow id, and the campaign derives its children's ids from it.
  writeFileSync(join(dir, `${name}.id`), `${handle.workflowId}\n`);
}
