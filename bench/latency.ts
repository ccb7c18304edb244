/**
 * Benchmark 4: reaction latency, from a call's end at the API to the workflow's result, at the contract's real
 * 10 s polling (no scaling: Temporal's own overhead is real time and would not scale).
 *
 * A handful of calls run in parallel, each on its own simulator whose call length is offset by a fraction of the
 * poll interval ((i + ½)/n × 10 s), so the ends fall evenly across the poll cycle as real calls' would: detection
 * then waits uniformly 0–10 s (mean 5 s), and what comes on top is the package's own reaction time.
 * One in-process worker (`createCallWorker`) reaches them all through a client that routes each call to its simulator.
 *
 *   npx tsx bench/latency.ts [--calls 40]
 */
import { randomUUID } from 'node:crypto';
import { tsToMs } from '@temporalio/common/lib/time';
import { type AgentPhoneClient, createAgentPhoneClient } from '../src/agentphone';
import { startCall } from '../src/calls';
import { type Simulator, startSimulator } from '../src/simulator';
import { contractTiming } from '../src/shared/timing';
import { createCallWorker } from '../src/worker';
import { ms } from './helpers/scale';
import { mean, quantile } from './helpers/stats';
import { startDevServer, uniqueQueue, workflowBundle } from './helpers/temporal';

export interface LatencyResult {
  calls: number;
  pollIntervalMs: number;
  /** End at the API → workflow closed (history close time). */
  reactionMs: number[];
  /** End at the API → the first read that saw it: the polling part, 0–10 s. */
  detectionMs: number[];
  /** That read → workflow closed: the package's own part (activity result, workflow task, completion). */
  processingMs: number[];
  /** End at the API → the client's `result()` resolved. */
  clientMs: number[];
}

const baseDurations = { queuedMs: 3000, dialingMs: 5000, inProgressMs: 26_000 };

export async function runLatencyBench(calls = 40, log: (line: string) => void = console.log): Promise<LatencyResult> {
  const pollMs = contractTiming.pollIntervalMs;
  const offsets = Array.from({ length: calls }, (_, i) => ((i + 0.5) / calls) * pollMs);
  const [env, bundle, ...sims] = await Promise.all([
    startDevServer(),
    workflowBundle(),
    ...offsets.map((offset) =>
      startSimulator({
        progress: 'time',
        credits: Number.POSITIVE_INFINITY,
        durations: { ...baseDurations, inProgressMs: baseDurations.inProgressMs + offset },
      }),
    ),
  ]);
  const simulators = sims as Simulator[];
  const numbers = offsets.map((_, i) => `+1415${String(5_000_000 + i).padStart(7, '0')}`);
  const taskQueue = uniqueQueue('latency');
  const worker = await createCallWorker({
    connection: env.nativeConnection,
    taskQueue,
    agentPhone: routingClient(simulators, numbers),
    // Each call has a simulator, so a key, of its own, and this measures what follows the create: no dial gate.
    gate: false,
    worker: { workflowBundle: bundle },
  });
  const running = worker.run();
  try {
    const results = await Promise.all(
      numbers.map(async (toPhoneNumber, i) => {
        // Contract timing: no override at all.
        const { handle } = await startCall(
          env.client,
          { toPhoneNumber, objective: 'Ask about opening hours' },
          { workflowId: `bench-latency-${i}-${randomUUID().slice(0, 8)}`, taskQueue },
        );
        const result = await handle.result();
        const resolvedAt = Date.now();
        const closedAt = tsToMs((await handle.describe()).raw.workflowExecutionInfo?.closeTime);
        const sim = simulators[i]!;
        const call = sim.calls().find((c) => c.callId === result.callId)!;
        const endedAt =
          call.createdAt + baseDurations.queuedMs + baseDurations.dialingMs + baseDurations.inProgressMs + offsets[i]!;
        const sawEnd = sim
          .requests()
          .filter((r) => r.method === 'GET' && r.path.endsWith(result.callId) && r.at >= endedAt)
          .map((r) => r.at);
        const detectedAt = Math.min(...sawEnd);
        return {
          reaction: closedAt - endedAt,
          detection: detectedAt - endedAt,
          processing: closedAt - detectedAt,
          client: resolvedAt - endedAt,
        };
      }),
    );
    const out: LatencyResult = {
      calls,
      pollIntervalMs: pollMs,
      reactionMs: results.map((r) => r.reaction),
      detectionMs: results.map((r) => r.detection),
      processingMs: results.map((r) => r.processing),
      clientMs: results.map((r) => r.client),
    };
    describeLatency(out).forEach((line) => log(`  ${line}`));
    return out;
  } finally {
    worker.shutdown();
    await running;
    await Promise.all(simulators.map((s) => s.close()));
    await env.teardown();
  }
}

/** Routes each create to the simulator of its number, and each read to the simulator that created the call. */
function routingClient(simulators: Simulator[], numbers: string[]): AgentPhoneClient {
  const clients = simulators.map((s) => createAgentPhoneClient({ apiKey: s.apiKey, baseUrl: s.baseUrl }));
  const byCall = new Map<string, AgentPhoneClient>();
  return {
    async createCall(request, options) {
      const client = clients[numbers.indexOf(request.toPhoneNumber)];
      if (!client) throw new Error(`no simulator for ${request.toPhoneNumber}`);
      const created = await client.createCall(request, options);
      byCall.set(created.callId, client);
      return created;
    },
    getCall(callId, options) {
      const client = byCall.get(callId);
      if (!client) throw new Error(`unknown call ${callId}`);
      return client.getCall(callId, options);
    },
  };
}

export function describeLatency(r: LatencyResult): string[] {
  const line = (name: string, v: number[]) =>
    `${name}: median ${ms(quantile(v, 0.5))}, mean ${ms(mean(v))}, p99 ${ms(quantile(v, 0.99))}, max ${ms(Math.max(...v))}`;
  return [
    `${r.calls} calls at the contract's ${r.pollIntervalMs / 1000} s polling (bound: one interval; expected mean ${ms(r.pollIntervalMs / 2)} + overhead)`,
    line('reaction (end at the API → workflow closed)', r.reactionMs),
    line('  detection (end → first read that saw it)', r.detectionMs),
    line('  processing (that read → workflow closed)', r.processingMs),
    line('  client (end → result() resolved)', r.clientMs),
  ];
}

if (require.main === module) {
  const i = process.argv.indexOf('--calls');
  runLatencyBench(i >= 0 ? Number(process.argv[i + 1]) : 40).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
