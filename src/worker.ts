import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { createDialGateActivities } from './activities/dial-gate-client';
import { redactingActivityInterceptor, redactingLogger } from './activities/redaction';
import { type AgentPhoneClient, createAgentPhoneClient } from './agentphone';
import type { ContactPolicyDeps, IdempotencyTrust } from './activities';
import { createsPerWindow, rateWindowMs } from './agentphone/contract';
import { ConfigError, defaultGateTaskQueue, loadWorkerConfig } from './config';
import { ContactStoreLockedError, openContactStore } from './contact-store';
import { dataConverterFor } from './encryption/codec';
import type { KeyRing } from './encryption/keys';
import { missingSearchAttributes, setupCommand } from './temporal-setup';

/** Written by `npm run build` (scripts/bundle-workflows.ts): the production worker never bundles at start-up. */
export const workflowBundlePath = join(__dirname, 'workflow-bundle.js');
/** The same workflows with the failure converter that puts failure messages in (encrypted) payloads. */
export const encryptedWorkflowBundlePath = join(__dirname, 'workflow-bundle-encrypted.js');

export interface CallWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  agentPhone: AgentPhoneClient;
  /** Extra Worker options (tuning, interceptors, tests' `workflowsPath`). */
  worker?: Partial<WorkerOptions>;
  /** Whether to upsert search attributes. @default detected: true when the namespace has them all */
  searchAttributes?: boolean;
  /** The API key's ceiling (AGENTPHONE_RATE_LIMIT). @default the contract's 10 creates a minute */
  rateLimit?: { count: number; windowMs: number };
  /** Whether the API deduplicates creates (AGENTPHONE_IDEMPOTENCY). @default 'untrusted' */
  idempotency?: IdempotencyTrust;
  /**
   * The key's dial gate: every create of every workflow on this key passes it. Its task queue is shared by the
   * whole namespace. `false` turns it off (tests of the API's own 429 handling). `keyFingerprint` names the key's
   * gate for an `agentPhone` client not made by createAgentPhoneClient (`keyFingerprint(apiKey)`).
   * @default { taskQueue: 'agentphone-dial-gate' }
   */
  gate?: { taskQueue?: string; keyFingerprint?: string } | false;
  /**
   * Payload encryption keys (AGENTPHONE_ENCRYPTION_KEYS): every payload the workers write is encrypted with the
   * newest, failure messages included; payloads under any of them are read. Clients need the same keys.
   */
  encryption?: KeyRing;
  /**
   * The contact policy (the do-not-call list, frequency caps) and its store, checked before every create. The
   * production worker always has one (AGENTPHONE_DATABASE_URL or the embedded store); without it nothing is checked.
   */
  contacts?: ContactPolicyDeps;
}

/** The workers of one process: the calls' own, and the one that runs the key's dial gate on its task queue. */
export interface CallWorker {
  run(): Promise<void>;
  runUntil<R>(until: Promise<R> | (() => Promise<R>)): Promise<R>;
  shutdown(): void;
  readonly workers: readonly Worker[];
}

/** A worker that runs this package's workflows and activities. Prebundled workflow code is used when it exists. */
export async function createCallWorker(options: CallWorkerOptions): Promise<CallWorker> {
  const { connection, namespace = 'default', taskQueue, agentPhone, worker } = options;
  let { searchAttributes } = options;
  if (searchAttributes === undefined) {
    const missing = await missingSearchAttributes(connection.operatorService, namespace);
    searchAttributes = missing.length === 0;
    if (!searchAttributes) {
      console.warn(
        `agentphone worker: namespace "${namespace}" lacks the search attributes ${missing.join(', ')}; ` +
          `calls run without them. Run \`${setupCommand}\` to register them.`,
      );
    }
  }
  const dataConverter = dataConverterFor(options.encryption);
  const bundlePath = options.encryption ? encryptedWorkflowBundlePath : workflowBundlePath;
  const workflowSource: Partial<WorkerOptions> =
    worker?.workflowsPath || worker?.workflowBundle
      ? {}
      : existsSync(bundlePath)
        ? { workflowBundle: { codePath: bundlePath } }
        : { workflowsPath: require.resolve('./workflows') };
  const rateLimit = options.rateLimit ?? { count: createsPerWindow, windowMs: rateWindowMs };
  const gateQueue = options.gate === false ? undefined : (options.gate?.taskQueue ?? defaultGateTaskQueue);
  const fingerprint = (options.gate || undefined)?.keyFingerprint ?? agentPhone.keyFingerprint;
  if (gateQueue && !fingerprint) {
    throw new Error(
      'createCallWorker: the dial gate needs the API key’s fingerprint. Use a client made by createAgentPhoneClient, ' +
        'pass gate: { keyFingerprint: keyFingerprint(apiKey) }, or gate: false to dial without the gate.',
    );
  }
  const gate = gateQueue && fingerprint ? { ceiling: rateLimit, taskQueue: gateQueue, fingerprint } : undefined;
  const redaction = agentPhone.redact ? [redactingActivityInterceptor(agentPhone.redact)] : [];
  const calls = await Worker.create({
    connection,
    namespace,
    taskQueue,
    dataConverter,
    activities: createActivities({
      client: agentPhone,
      searchAttributes,
      rateLimit,
      ...(gate ? { gate } : {}),
      ...(options.idempotency ? { idempotency: options.idempotency } : {}),
      ...(options.contacts ? { contacts: options.contacts } : {}),
    }),
    ...workflowSource,
    ...worker,
    interceptors: { ...worker?.interceptors, activity: [...redaction, ...(worker?.interceptors?.activity ?? [])] },
  });
  // The gate is a workflow of the same bundle on a queue of its own, so that it lives on whichever of the
  // namespace's workers is up, whatever queues their calls use.
  const gateWorker =
    gateQueue && gateQueue !== taskQueue
      ? await Worker.create({
          connection,
          namespace,
          taskQueue: gateQueue,
          // The gate's messages hold no personal data, but they come from clients that encrypt everything.
          dataConverter: worker?.dataConverter ?? dataConverter,
          activities: createDialGateActivities(),
          ...workflowSource,
          ...(worker?.workflowBundle ? { workflowBundle: worker.workflowBundle } : {}),
          ...(worker?.workflowsPath ? { workflowsPath: worker.workflowsPath } : {}),
          maxConcurrentWorkflowTaskExecutions: 10,
        })
      : undefined;
  return combine(calls, gateWorker);
}

function combine(calls: Worker, gate: Worker | undefined): CallWorker {
  const workers = gate ? [calls, gate] : [calls];
  const shutdown = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  return {
    workers,
    shutdown,
    async run() {
      // When one stops (a signal, a fatal error), the other is shut down too.
      await Promise.all(workers.map((w) => w.run().finally(shutdown)));
    },
    async runUntil(until) {
      const gateRun = gate?.run();
      try {
        return await calls.runUntil(until);
      } finally {
        if (gate && gate.getState() === 'RUNNING') gate.shutdown();
        await gateRun;
      }
    },
  };
}

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  const agentPhone = createAgentPhoneClient(config.agentPhone);
  // Every line the SDK logs for this worker (activity and workflow logs included) passes the same redactor.
  Runtime.install({ logger: redactingLogger(new DefaultLogger('INFO'), agentPhone.redact!) });
  const { connectionOptions, namespace } = loadClientConnectConfig();
  const connection = await NativeConnection.connect(connectionOptions);
  // Opened (and migrated) before the worker polls: a worker that cannot check the policy takes no call.
  const store = await openContactStore(config.contactStore).catch(async (error: unknown) => {
    await connection.close();
    throw error;
  });
  try {
    const worker = await createCallWorker({
      connection,
      namespace,
      taskQueue: config.taskQueue,
      agentPhone,
      searchAttributes: config.searchAttributes,
      rateLimit: config.rateLimit,
      idempotency: config.idempotency,
      gate: { taskQueue: config.gateTaskQueue },
      ...(config.encryption ? { encryption: config.encryption } : {}),
      contacts: { store, policy: config.contactPolicy },
    });
    for (const warning of config.warnings) console.warn(`agentphone worker: warning: ${warning}`);
    console.log(
      `agentphone worker: task queue "${config.taskQueue}", namespace "${namespace ?? 'default'}", API ${config.agentPhone.baseUrl}, ` +
        (config.encryption
          ? `payloads encrypted with key "${config.encryption.current.id}"`
          : 'payloads not encrypted') +
        `, contact store ${store.kind === 'postgres' ? 'PostgreSQL' : `embedded in ${config.contactStore.dataDir}`}` +
        ` (policy: ${config.contactPolicy.origin})`,
    );
    // Worker.run() resolves after SIGINT/SIGTERM once in-flight tasks have drained.
    await worker.run();
  } finally {
    await store.close();
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    // What an operator can fix is said in one message; anything else keeps its stack.
    console.error(error instanceof ConfigError || error instanceof ContactStoreLockedError ? error.message : error);
    process.exit(1);
  });
}
