import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../../src/simulator';
import type { callCampaignWorkflow } from '../../../src/workflows';
import { startPostgres } from '../../helpers/postgres';
import { assertBuilt, DevServer, Logs, sleep, WorkerProcess, workerEnv } from './processes';

export { waitForProgress } from '../../helpers/campaign';

export type CampaignHandle = WorkflowHandle<typeof callCampaignWorkflow>;

/**
 * One file's world: a dev server it owns (optionally on a database file, so that it survives SIGKILL), the
 * simulator in this process, a client, and production workers as child processes on a task queue of its own.
 */
export interface Stack {
  dir: string;
  dbFile: string | undefined;
  server: DevServer;
  sim: Simulator;
  client: Client;
  logs: Logs;
  taskQueue: string;
  apiKey: string;
  workers: WorkerProcess[];
  /** Starts one more production worker (`node lib/worker.js`) and waits until it polls. */
  startWorker(): Promise<WorkerProcess>;
  close(): Promise<void>;
}

export interface StackOptions {
  suite: string;
  apiKey: string;
  /** Keep the server's state in a SQLite file, so that a SIGKILLed server restarts where it was. @default false */
  persistent?: boolean;
  /** Simulator options beyond the defaults here: `polls` progress, unlimited credits. */
  simulator?: SimulatorOptions;
  /** The workers' AGENTPHONE_HTTP_TIMEOUT_MS. @default the worker's own (15000) */
  httpTimeoutMs?: number;
  /** More of the workers' environment (AGENTPHONE_IDEMPOTENCY, AGENTPHONE_RATE_LIMIT…), over the defaults here. */
  workerEnv?: Record<string, string>;
}

export async function startStack({
  suite,
  apiKey,
  persistent = false,
  simulator = {},
  httpTimeoutMs,
  workerEnv: extraEnv = {},
}: StackOptions): Promise<Stack> {
  assertBuilt();
  const dir = mkdtempSync(join(tmpdir(), `faults-${suite}-`));
  const dbFile = persistent ? join(dir, 'temporal.db') : undefined;
  const logs = new Logs();
  // Several workers share one contact store, as in production: PostgreSQL (the embedded one is one process's).
  const [server, sim, postgres] = await Promise.all([
    DevServer.start({ logs, ...(dbFile ? { dbFile } : {}) }),
    startSimulator({ apiKey, progress: 'polls', credits: Number.POSITIVE_INFINITY, ...simulator }),
    startPostgres(),
  ]);
  const databaseUrl = await postgres.createDatabase();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const taskQueue = `faults-${suite}-${Date.now()}`;
  const workers: WorkerProcess[] = [];
  let started = 0;
  return {
    dir,
    dbFile,
    server,
    sim,
    client,
    logs,
    taskQueue,
    apiKey,
    workers,
    async startWorker() {
      const env = workerEnv({
        address: server.address,
        taskQueue,
        apiKey,
        baseUrl: sim.baseUrl,
        ...(httpTimeoutMs ? { httpTimeoutMs } : {}),
        // The workers' ceiling is the simulator's: campaigns may pace up to what the API they talk to accepts.
        ...(simulator.rateLimit ? { rateLimit: `${simulator.rateLimit.limit}/${simulator.rateLimit.windowMs}ms` } : {}),
      });
      env.AGENTPHONE_DATABASE_URL = databaseUrl;
      Object.assign(env, extraEnv);
      const worker = await WorkerProcess.start(`worker#${++started}`, env, logs);
      workers.push(worker);
      return worker;
    },
    async close() {
      await Promise.all(workers.map((w) => w.stop()));
      await connection.close().catch(() => undefined);
      await server.stop();
      await sim.close();
      await postgres.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Retries through server restarts: an unavailable server is waited for, an answer (even a failure) is returned. */
export async function retrying<T>(what: string, fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof WorkflowFailedError) throw error;
      if (Date.now() > deadline) throw new Error(`${what}: still failing after ${timeoutMs} ms: ${String(error)}`);
      await sleep(500);
    }
  }
}

/** Ids of every workflow whose id starts with `prefix`, e.g. a campaign's calls. */
export async function workflowIdsStartingWith(client: Client, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH "${prefix}"` })) ids.push(wf.workflowId);
  return ids;
}
