import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { findTemporalBinary } from '../../src/dev/temporal-binaries';
import { searchAttributeKeys } from '../../src/search-attributes';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export const root = join(__dirname, '..', '..');
export const workflowsPath = join(root, 'src', 'workflows', 'index.ts');

let runtimeInstalled = false;
/**
 * The SDK's own logs at ERROR: a benchmark prints its figures, not the worker's chatter (a 429 is counted from the
 * simulator's log, not read from a warning).
 */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
}

/**
 * A Temporal dev server (the Temporal CLI, `findTemporalBinary('cli')`), in memory, on 127.0.0.1, with the package's
 * search attributes registered as `npm run setup:temporal` would: figures are those of a production namespace.
 */
export function startDevServer(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: findTemporalBinary('cli') },
      ip: '127.0.0.1',
      searchAttributes: searchAttributeKeys,
      log: { format: 'pretty', level: 'error' },
    },
  });
}

const quietLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: (message: string, meta?: unknown) => console.error(message, meta ?? ''),
};

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();
/** The workflow code bundled from source once per process (lib/ may be stale while others edit src/). */
export function workflowBundle(path = workflowsPath): Promise<WorkflowBundleWithSourceMap> {
  let bundle = bundles.get(path);
  if (!bundle) {
    bundle = bundleWorkflowCode({ workflowsPath: path, logger: quietLogger });
    bundles.set(path, bundle);
  }
  return bundle;
}

export const uniqueQueue = (name: string) => `bench-${name}-${randomUUID().slice(0, 8)}`;

export async function historyOf(handle: WorkflowHandle): Promise<HistoryEvent[]> {
  return (await handle.fetchHistory()).events ?? [];
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i]!, i);
  });
  await Promise.all(lanes);
  return results;
}
