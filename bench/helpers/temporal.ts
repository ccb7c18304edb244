import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { findTemporalBinary } from '../../src/dev/temporal-binaries';
import { searchAttributeKeys } from '../../src/shared/search-attributes';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export const root = join(__dirname, '..', '..');
export const workflowsPath = join(root, 'src', 'workflows', 'index.ts');

/**
 * The SDK's own logs (the runtime's and the workflow bundler's) at ERROR: a benchmark prints its figures, not the
 * worker's chatter (a 429 is counted from the simulator's log, not read from a warning).
 */
const quietLogger = new DefaultLogger('ERROR');

let runtimeInstalled = false;
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: quietLogger,
    // The SDK's native side logs to the console on its own unless forwarded; its warnings (a retried RPC) are
    // counted from the server's metrics instead (`serverMetrics`).
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
}

const metricsUrls = new WeakMap<TestWorkflowEnvironment, string>();

/**
 * A Temporal dev server (the Temporal CLI, `findTemporalBinary('cli')`), in memory, on 127.0.0.1, with the package's
 * search attributes registered as `npm run setup:temporal` would: figures are those of a production namespace. Its
 * Prometheus metrics are read by `serverMetrics`.
 */
export async function startDevServer(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const metricsPort = await freePort();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: findTemporalBinary('cli') },
      ip: '127.0.0.1',
      searchAttributes: searchAttributeKeys,
      log: { format: 'pretty', level: 'error' },
      extraArgs: ['--metrics-port', String(metricsPort)],
    },
  });
  metricsUrls.set(env, `http://127.0.0.1:${metricsPort}/metrics`);
  return env;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** What the dev server's frontend was asked in the default namespace, and what it refused, by operation. */
export interface ServerMetrics {
  /** Requests by operation (`QueryWorkflow`, `SignalWorkflowExecution`, `UpdateWorkflowExecution`, …). */
  requests: Record<string, number>;
  /** Refused with RESOURCE_EXHAUSTED, by operation. */
  resourceExhausted: Record<string, number>;
}

/**
 * The frontend's request counters from the server's Prometheus endpoint. Queries leave no trace in a history but
 * are Temporal Cloud actions, so they are counted here. The server publishes its counters about once a second:
 * read after a pause, and compare two readings (`metricsDelta`).
 */
export async function serverMetrics(env: TestWorkflowEnvironment): Promise<ServerMetrics> {
  const url = metricsUrls.get(env);
  if (!url) throw new Error('serverMetrics needs a server started by startDevServer');
  const text = await (await fetch(url)).text();
  const out: ServerMetrics = { requests: {}, resourceExhausted: {} };
  for (const line of text.split('\n')) {
    const m = /^(service_requests|service_errors_resource_exhausted)\{([^}]*)\} ([0-9.e+]+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (labels.namespace !== 'default' || labels.service_name !== 'frontend' || !labels.operation) continue;
    const into = m[1] === 'service_requests' ? out.requests : out.resourceExhausted;
    into[labels.operation] = (into[labels.operation] ?? 0) + Number(m[3]);
  }
  return out;
}

export function metricsDelta(before: ServerMetrics, after: ServerMetrics): ServerMetrics {
  const diff = (a: Record<string, number>, b: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(b)
        .map(([k, v]) => [k, v - (a[k] ?? 0)] as const)
        .filter(([, v]) => v > 0),
    );
  return {
    requests: diff(before.requests, after.requests),
    resourceExhausted: diff(before.resourceExhausted, after.resourceExhausted),
  };
}

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

/** Whether `promise` settled within `ms` (its rejection is thrown), without leaving a timer behind. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms), undefined)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

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
