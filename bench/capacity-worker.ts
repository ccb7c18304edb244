// Benchmark 2's worker, in a process of its own so that its CPU and memory are its own: the package's worker
// (`createCallWorker`, default options but the dial gate) on a prebundled workflow file. Prints "ready" and runs
// until SIGTERM.
import { NativeConnection } from '@temporalio/worker';
import { createAgentPhoneClient } from '../src/agentphone';
import { createCallWorker } from '../src/worker';
import { quietRuntime } from './helpers/temporal';

async function main(): Promise<void> {
  const env = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is required (set by bench/capacity.ts)`);
    return value;
  };
  quietRuntime();
  const connection = await NativeConnection.connect({ address: env('BENCH_TEMPORAL_ADDRESS') });
  const worker = await createCallWorker({
    connection,
    taskQueue: env('BENCH_TASK_QUEUE'),
    agentPhone: createAgentPhoneClient({ apiKey: env('BENCH_SIM_KEY'), baseUrl: env('BENCH_SIM_URL') }),
    // The simulator's limit is lifted: this measures following calls, not creating them, and the key's gate would
    // hold the ramp's creates to the API's 10 a minute.
    gate: false,
    worker: { workflowBundle: { codePath: env('BENCH_BUNDLE_PATH') } },
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
