import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { findTemporalBinary } from '../../../src/dev/temporal-binaries';
import { searchAttributeKeys } from '../../../src/shared/search-attributes';
import { freePort } from '../../helpers/browser';
import { anyHourPolicy } from '../../helpers/policy';

export const root = join(__dirname, '..', '..', '..');
export const workerJs = join(root, 'lib', 'worker.js');
export const starterJs = join(root, 'lib', 'starter.js');
export const workflowBundlePath = join(root, 'lib', 'workflow-bundle.js');

export function assertBuilt(): void {
  if (!existsSync(workerJs) || !existsSync(workflowBundlePath)) {
    throw new Error('lib/ is missing: run `npm run build` first (npm test does).');
  }
}

/** Everything each process of the suite printed, kept whole and raw so that the secret scan reads all of it. */
export class Logs {
  readonly #bySource = new Map<string, string>();

  add(source: string, chunk: string): void {
    this.#bySource.set(source, (this.#bySource.get(source) ?? '') + chunk);
  }

  /** Raw output by process label (`worker#3`, `temporal#2`, ...). */
  sources(): ReadonlyMap<string, string> {
    return this.#bySource;
  }

  tail(source?: string, lines = 40): string {
    const text = source ? (this.#bySource.get(source) ?? '') : ([...this.#bySource.values()].at(-1) ?? '');
    return text.split('\n').slice(-lines).join('\n');
  }
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function exitOf(proc: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve({ code: proc.exitCode, signal: proc.signalCode });
    else proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

export interface DevServerOptions {
  /** A SQLite file: what the server knew survives a SIGKILL. Without it, state lives in memory. */
  dbFile?: string;
  logs: Logs;
}

/**
 * `temporal server start-dev` as a child process of the test, on a fixed loopback port, so that it can be SIGKILLed
 * and started again on the same port and database file. The package's search attributes are registered, so the
 * workflows upsert them as in production.
 */
export class DevServer {
  kills = 0;
  #proc: ChildProcess | undefined;
  #starts = 0;

  private constructor(
    readonly port: number,
    private readonly options: DevServerOptions,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(options: DevServerOptions): Promise<DevServer> {
    const server = new DevServer(await freePort(), options);
    await server.#spawn();
    return server;
  }

  async #spawn(): Promise<void> {
    const args = [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(this.port),
      '--headless',
      '--log-level',
      'warn',
    ];
    if (this.options.dbFile) {
      // WAL without an fsync per commit: what a SIGKILLed process wrote is in the OS's hands and survives it. Only
      // a power cut could lose the last commits, and that is not the fault under test. Three times faster on a
      // shared disk than the default journal.
      args.push(
        '--db-filename',
        this.options.dbFile,
        '--sqlite-pragma',
        'journal_mode=wal',
        '--sqlite-pragma',
        'synchronous=normal',
      );
    }
    for (const key of searchAttributeKeys) args.push('--search-attribute', `${key.name}=Keyword`);
    const label = `temporal#${++this.#starts}`;
    const proc = spawn(findTemporalBinary('cli'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout?.on('data', (d: Buffer) => this.options.logs.add(label, d.toString()));
    proc.stderr?.on('data', (d: Buffer) => this.options.logs.add(label, d.toString()));
    this.#proc = proc;
    await this.#waitReady(proc, label);
  }

  /** Ready when the default namespace answers, not when the port opens: the namespace is registered after. */
  async #waitReady(proc: ChildProcess, label: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (proc.exitCode !== null)
        throw new Error(`temporal server exited with ${proc.exitCode}:\n${this.options.logs.tail(label)}`);
      let connection: Connection | undefined;
      try {
        connection = await Connection.connect({ address: this.address, connectTimeout: 1000 });
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`temporal server not ready after 60 s: ${String(error)}`);
        await sleep(250);
      } finally {
        await connection?.close().catch(() => undefined);
      }
    }
  }

  /** SIGKILL: no shutdown, no flush, as when the machine dies. */
  async kill(): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    proc.kill('SIGKILL');
    await exitOf(proc);
    this.kills++;
  }

  async restart(): Promise<void> {
    await this.#spawn();
  }

  async stop(): Promise<void> {
    const proc = this.#proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const exited = await Promise.race([exitOf(proc), sleep(10_000).then(() => undefined)]);
    if (!exited) {
      proc.kill('SIGKILL');
      await exitOf(proc);
    }
  }
}

export interface WorkerEnv {
  address: string;
  taskQueue: string;
  apiKey: string;
  baseUrl: string;
  httpTimeoutMs?: number;
  /** AGENTPHONE_RATE_LIMIT, e.g. `600/1m`. @default the worker's own (10/1m) */
  rateLimit?: string;
}

/** The environment of a production worker: only what it documents, nothing inherited from the test's shell. */
export function workerEnv({
  address,
  taskQueue,
  apiKey,
  baseUrl,
  httpTimeoutMs,
  rateLimit,
}: WorkerEnv): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    AGENTPHONE_API_KEY: apiKey,
    AGENTPHONE_BASE_URL: baseUrl,
    // The suites run at any hour of the day: their campaigns keep to their own windows (test/fixtures/).
    AGENTPHONE_CONTACT_POLICY: anyHourPolicy,
    ...(httpTimeoutMs === undefined ? {} : { AGENTPHONE_HTTP_TIMEOUT_MS: String(httpTimeoutMs) }),
    ...(rateLimit === undefined ? {} : { AGENTPHONE_RATE_LIMIT: rateLimit }),
  };
}

/** `node lib/worker.js`, the production worker, as a child process. */
export class WorkerProcess {
  /** Set when the process ended without being told to: a crash of its own. */
  diedOnItsOwn: Exit | undefined;
  #killing = false;

  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
    readonly exited: Promise<Exit>,
  ) {}

  get pid(): number {
    return this.proc.pid!;
  }

  /** The identity Temporal records for this worker's tasks (the SDK's default, `pid@hostname`). */
  get identityPrefix(): string {
    return `${this.pid}@`;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  static async start(name: string, env: NodeJS.ProcessEnv, logs: Logs): Promise<WorkerProcess> {
    const proc = spawn(process.execPath, [workerJs], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      logs.add(name, d.toString());
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    const worker = new WorkerProcess(name, proc, exitOf(proc));
    void worker.exited.then((exit) => {
      if (!worker.#killing) worker.diedOnItsOwn = exit;
    });
    const deadline = Date.now() + 90_000;
    while (!out.includes('agentphone worker:')) {
      if (!worker.running) throw new Error(`${name} exited before it was ready:\n${out}`);
      if (Date.now() > deadline) throw new Error(`${name} not ready after 90 s:\n${out}`);
      await sleep(50);
    }
    return worker;
  }

  async kill(): Promise<void> {
    this.#killing = true;
    this.proc.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM drains the worker; SIGKILL if it takes too long. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.#killing = true;
    this.proc.kill('SIGTERM');
    const exited = await Promise.race([this.exited, sleep(15_000).then(() => undefined)]);
    if (!exited) await this.kill();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
