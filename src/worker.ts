import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { redactingActivityInterceptor, redactingLogger } from './activities/redaction';
import { type AgentPhoneClient, createAgentPhoneClient } from './agentphone';
import { ConfigError, loadWorkerConfig } from './config';
import { missingSearchAttributes, setupCommand } from './temporal-setup';

/** Written by `npm run build` (scripts/bundle-workflows.ts): the production worker never bundles at start-up. */
export const workflowBundlePath = join(__dirname, 'workflow-bundle.js');

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
}

/** A worker that runs this package's workflows and activities. Prebundled workflow code is used when it exists. */
export async function createCallWorker(options: CallWorkerOptions) {
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
  const workflowSource: Partial<WorkerOptions> =
    worker?.workflowsPath || worker?.workflowBundle
      ? {}
      : existsSync(workflowBundlePath)
        ? { workflowBundle: { codePath: workflowBundlePath } }
        : { workflowsPath: require.resolve('./workflows') };
  const redaction = agentPhone.redact ? [redactingActivityInterceptor(agentPhone.redact)] : [];
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    activities: createActivities({
      client: agentPhone,
      searchAttributes,
      ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    }),
    ...workflowSource,
    ...worker,
    interceptors: { ...worker?.interceptors, activity: [...redaction, ...(worker?.interceptors?.activity ?? [])] },
  });
}

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  const agentPhone = createAgentPhoneClient(config.agentPhone);
  // Every line the SDK logs for this worker (activity and workflow logs included) passes the same redactor.
  Runtime.install({ logger: redactingLogger(new DefaultLogger('INFO'), agentPhone.redact!) });
  const { connectionOptions, namespace } = loadClientConnectConfig();
  const connection = await NativeConnection.connect(connectionOptions);
  try {
    const worker = await createCallWorker({
      connection,
      namespace,
      taskQueue: config.taskQueue,
      agentPhone,
      searchAttributes: config.searchAttributes,
      rateLimit: config.rateLimit,
    });
    for (const warning of config.warnings) console.warn(`agentphone worker: warning: ${warning}`);
    console.log(
      `agentphone worker: task queue "${config.taskQueue}", namespace "${namespace ?? 'default'}", API ${config.agentPhone.baseUrl}`,
    );
    // Worker.run() resolves after SIGINT/SIGTERM once in-flight tasks have drained.
    await worker.run();
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  });
}
