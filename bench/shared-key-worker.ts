// The shared-key benchmark's second worker on the key (the backend's, for single calls), in a process of its own as
// a backend's would be: this package's `createCallWorker` with the key's ceiling (its dial gate on), or, with
// BENCH_BEFORE_DIR, the package before the gate. Prints "ready" and runs until SIGTERM.
import { NativeConnection } from '@temporalio/worker';
import { createAgentPhoneClient } from '../src/agentphone';
import { createCallWorker } from '../src/worker';
import { beforeCommit, loadBeforePackage } from './helpers/before';
import { minuteScale } from './helpers/scale';
import { quietRuntime } from './helpers/temporal';

async function main(): Promise<void> {
  const env = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is required (set by bench/shared-key.ts)`);
    return value;
  };
  quietRuntime();
  const connection = await NativeConnection.connect({ address: env('BENCH_TEMPORAL_ADDRESS') });
  const sim = { apiKey: env('BENCH_SIM_KEY'), baseUrl: env('BENCH_SIM_URL') };
  const taskQueue = env('BENCH_TASK_QUEUE');
  const workflowBundle = { codePath: env('BENCH_BUNDLE_PATH') };
  const beforeDir = process.env.BENCH_BEFORE_DIR;
  const old = beforeDir ? loadBeforePackage(beforeCommit, beforeDir) : undefined;
  const worker = old
    ? await old.createCallWorker({
        connection,
        taskQueue,
        agentPhone: old.createAgentPhoneClient(sim),
        worker: { workflowBundle },
      })
    : await createCallWorker({
        connection,
        taskQueue,
        agentPhone: createAgentPhoneClient(sim),
        rateLimit: { count: minuteScale.limit, windowMs: minuteScale.windowMs },
        worker: { workflowBundle },
      });
  const running = worker.run();
  console.log('ready');
  await running;
  await connection.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
