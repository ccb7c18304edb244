/**
 * Benchmark 2: how many calls one worker can follow at the contract's 10 s polling while the poll lag stays within
 * 1 s at p99. Calls to the simulator's `neverEnds` number (in progress forever) are added in steps; at each step,
 * after a settling period, the gaps between consecutive reads of every call are measured at the simulator
 * (lag = gap − 10 s; a call whose next read is overdue at the end of the window counts with its lag so far).
 *
 * The worker runs in a process of its own (bench/capacity-worker.ts: `createCallWorker`, default options) so that
 * its CPU and memory are its own; the dev server (Temporal CLI) and this process (simulator and client) are
 * measured apart, and the machine as a whole from /proc/stat. Bounded by a time budget.
 *
 *   npx tsx bench/capacity.ts [--budget 270] [--steps 250,500,750,1000]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { startCall } from '../src/calls';
import { magicNumbers, startSimulator } from '../src/simulator';
import { contractTiming } from '../src/shared/timing';
import { runTsChild } from './helpers/child';
import { cpuMeter, descendantPids, loadAverage, processMemoryMiB } from './helpers/machine';
import { ms } from './helpers/scale';
import { quantile } from './helpers/stats';
import { historyOf, mapLimit, sleep, startDevServer, uniqueQueue, workflowBundle } from './helpers/temporal';

const { EventType } = temporal.api.enums.v1;

export interface CapacityOptions {
  steps: number[];
  /** Seconds for the whole ramp; a step that would not fit is not started. */
  budgetSeconds: number;
  settleSeconds: number;
  measureSeconds: number;
  /** p99 poll lag allowed, ms. */
  lagLimitMs: number;
  log?: (line: string) => void;
}

export interface CapacityStep {
  inFlight: number;
  startSeconds: number;
  lag: { p50: number; p99: number; max: number; samples: number; overdue: number };
  /** % of one core for processes; % of the whole machine for `machine`. */
  cpu: { worker?: number; server?: number; bench?: number; machine: number };
  workerMemoryMiB?: { rss: number; peak: number };
  /** From the histories of the most-lagged calls: where a poll cycle's time goes (largest value of each part, ms). */
  cycle: {
    timerLate: number;
    timerToSchedule: number;
    scheduleToStart: number;
    execution: number;
    completeToTimer: number;
    samples: number;
  };
  loadAverage: [number, number, number];
  ok: boolean;
}

export interface CapacityResult {
  options: Omit<CapacityOptions, 'log'>;
  steps: CapacityStep[];
  /** Largest step within the lag limit. */
  capacity: number;
  /** The first step over the limit, if the ramp reached one. */
  failedAt?: number;
  idleWorkerRssMiB?: number;
  perThousand?: { workerCpu: number; serverCpu: number; workerRssMiB: number };
  limitedBy: string;
  seconds: number;
}

export const defaultCapacityOptions: Omit<CapacityOptions, 'log'> = {
  steps: [250, 500, 750, 1000, 1250, 1500, 2000, 3000, 4000],
  budgetSeconds: 270,
  settleSeconds: 12,
  measureSeconds: 20,
  lagLimitMs: 1000,
};

export async function runCapacityBench(options: CapacityOptions): Promise<CapacityResult> {
  const { steps, budgetSeconds, settleSeconds, measureSeconds, lagLimitMs, log = console.log } = options;
  const began = Date.now();
  const pollMs = contractTiming.pollIntervalMs;
  const [env, sim, bundle] = await Promise.all([
    startDevServer(),
    startSimulator({
      progress: 'time',
      credits: Number.POSITIVE_INFINITY,
      // Capacity of the worker, not of the API: a real key would take 100 minutes to start 1,000 calls.
      rateLimit: { limit: 1_000_000_000, windowMs: 60_000 },
    }),
    workflowBundle(),
  ]);
  const bundlePath = join(mkdtempSync(join(tmpdir(), 'agentphone-bench-')), 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  const taskQueue = uniqueQueue('capacity');
  const worker = runTsChild('capacity-worker.ts', [], {
    BENCH_TEMPORAL_ADDRESS: env.address,
    BENCH_TASK_QUEUE: taskQueue,
    BENCH_SIM_URL: sim.baseUrl,
    BENCH_SIM_KEY: sim.apiKey,
    BENCH_BUNDLE_PATH: bundlePath,
  });
  const results: CapacityStep[] = [];
  let idleWorkerRssMiB: number | undefined;
  try {
    await worker.line(/^ready$/);
    await sleep(2000);
    idleWorkerRssMiB = processMemoryMiB(worker.pid)?.rss;
    const serverPid = descendantPids(process.pid, /^temporal$/)[0];
    const meter = cpuMeter({ worker: worker.pid, server: serverPid, bench: process.pid });
    const ids: string[] = [];
    const reads = new ReadLog();

    for (const target of steps) {
      const add = target - ids.length;
      const elapsed = (Date.now() - began) / 1000;
      const estimate = Math.max(pollMs / 1000, add / 150) + settleSeconds + measureSeconds + 5;
      if (elapsed + estimate > budgetSeconds) {
        log(`  stopping before ${target}: the budget of ${budgetSeconds} s would be exceeded`);
        break;
      }
      // New calls are spread over one poll interval, as calls arriving over time would be, not dialed in one burst.
      const t0 = Date.now();
      const newIds = Array.from(
        { length: add },
        (_, i) => `bench-capacity-${ids.length + i}-${randomUUID().slice(0, 8)}`,
      );
      await mapLimit(newIds, 32, async (workflowId, i) => {
        const due = t0 + (i * pollMs) / add;
        if (due > Date.now()) await sleep(due - Date.now());
        await startCall(
          env.client,
          // The objective names the workflow, so that a call seen lagging at the simulator leads to its history.
          {
            toPhoneNumber: magicNumbers.neverEnds,
            objective: `Hold the line (${workflowId})`,
            timing: { callTimeout: '30m' },
          },
          { workflowId, taskQueue },
        );
      });
      ids.push(...newIds);
      const startSeconds = (Date.now() - t0) / 1000;
      await sleep(settleSeconds * 1000);

      const windowStart = Date.now();
      meter.start();
      await sleep(measureSeconds * 1000);
      const windowEnd = Date.now();
      const cpu = meter.stop();
      reads.add(sim.requests());
      const { worst, ...lag } = reads.lags(windowStart, windowEnd, pollMs);
      const workflowOf = new Map(
        sim.calls().map((call) => [call.callId, /\((bench-capacity-[^)]+)\)$/.exec(call.objective)?.[1]]),
      );
      const lagging = worst.map((callId) => workflowOf.get(callId)).filter((id): id is string => id !== undefined);
      const cycle = await cycleBreakdown(env.client, lagging, windowStart, windowEnd, pollMs);
      const step: CapacityStep = {
        inFlight: ids.length,
        startSeconds,
        lag,
        cpu: { ...cpu.processes, machine: cpu.machine },
        ...(processMemoryMiB(worker.pid) ? { workerMemoryMiB: processMemoryMiB(worker.pid)! } : {}),
        cycle,
        loadAverage: loadAverage(),
        ok: lag.p99 <= lagLimitMs,
      };
      results.push(step);
      log(`  ${describeStep(step)}`);
      if (!step.ok) break;
    }
  } finally {
    worker.process.kill('SIGTERM');
    const stopped = await Promise.race([
      worker.done.then(
        () => true,
        () => true,
      ),
      sleep(20_000).then(() => false),
    ]);
    if (!stopped) worker.process.kill('SIGKILL');
    await env.teardown();
    await sim.close();
  }

  const passing = results.filter((s) => s.ok);
  const best = passing.at(-1);
  const failed = results.find((s) => !s.ok);
  const result: CapacityResult = {
    options: { steps, budgetSeconds, settleSeconds, measureSeconds, lagLimitMs },
    steps: results,
    capacity: best?.inFlight ?? 0,
    ...(failed ? { failedAt: failed.inFlight } : {}),
    ...(idleWorkerRssMiB === undefined ? {} : { idleWorkerRssMiB }),
    ...(best ? { perThousand: perThousand(best, idleWorkerRssMiB) } : {}),
    limitedBy: limitedBy(failed ?? results.at(-1)),
    seconds: (Date.now() - began) / 1000,
  };
  return result;
}

/** Every read of every call, by call, from the simulator's log. */
class ReadLog {
  #seen = 0;
  readonly #byCall = new Map<string, number[]>();

  add(requests: readonly { method: string; path: string; at: number; status: number | 'reset' }[]): void {
    for (let i = this.#seen; i < requests.length; i++) {
      const r = requests[i]!;
      if (r.method !== 'GET' || !r.path.startsWith('/api/v1/calls/')) continue;
      const id = r.path.slice('/api/v1/calls/'.length);
      let times = this.#byCall.get(id);
      if (!times) this.#byCall.set(id, (times = []));
      times.push(r.at);
    }
    this.#seen = requests.length;
  }

  /** Lag of every read that fell in the window, and of every read overdue at its end. */
  lags(from: number, to: number, intervalMs: number) {
    const lags: number[] = [];
    const worstByCall: [string, number][] = [];
    let overdue = 0;
    for (const [callId, times] of this.#byCall) {
      // Only calls in their steady cadence: read at least once before the window.
      if (times[0]! >= from) continue;
      let worst = Number.NEGATIVE_INFINITY;
      for (let k = 1; k < times.length; k++) {
        if (times[k]! < from || times[k]! >= to) continue;
        const lag = times[k]! - times[k - 1]! - intervalMs;
        lags.push(lag);
        worst = Math.max(worst, lag);
      }
      const last = times.at(-1)!;
      if (to - last > intervalMs) {
        overdue++;
        lags.push(to - last - intervalMs);
        worst = Math.max(worst, to - last - intervalMs);
      }
      worstByCall.push([callId, worst]);
    }
    return {
      p50: quantile(lags, 0.5),
      p99: quantile(lags, 0.99),
      max: Math.max(...lags),
      samples: lags.length,
      overdue,
      /** The calls with the largest lag in the window, worst first. */
      worst: worstByCall
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([callId]) => callId),
    };
  }
}

/**
 * Where the time of a poll cycle goes, from the histories of the calls that lagged most in the window (the largest
 * value of each part over their cycles in the window): the part that grows is what runs out.
 */
async function cycleBreakdown(client: Client, sample: string[], from: number, to: number, intervalMs: number) {
  const parts = {
    timerLate: [] as number[],
    timerToSchedule: [] as number[],
    scheduleToStart: [] as number[],
    execution: [] as number[],
    completeToTimer: [] as number[],
  };
  await mapLimit(sample, 4, async (id) => {
    const events = await historyOf(client.workflow.getHandle(id));
    const at = (e: (typeof events)[number]) => tsToMs(e.eventTime);
    let timerStarted: number | undefined;
    let fired: number | undefined;
    let scheduled: number | undefined;
    let started: number | undefined;
    let completed: number | undefined;
    for (const e of events) {
      const t = at(e);
      switch (e.eventType) {
        case EventType.EVENT_TYPE_TIMER_STARTED:
          if (completed !== undefined && t >= from && t < to) parts.completeToTimer.push(t - completed);
          timerStarted = t;
          break;
        case EventType.EVENT_TYPE_TIMER_FIRED:
          if (timerStarted !== undefined && t >= from && t < to) parts.timerLate.push(t - timerStarted - intervalMs);
          fired = t;
          break;
        case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
          if (fired !== undefined && t >= from && t < to) parts.timerToSchedule.push(t - fired);
          scheduled = t;
          break;
        case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
          if (scheduled !== undefined && t >= from && t < to) parts.scheduleToStart.push(t - scheduled);
          started = t;
          break;
        case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
          if (started !== undefined && t >= from && t < to) parts.execution.push(t - started);
          completed = t;
          break;
      }
    }
  });
  const max = (v: number[]) => (v.length ? Math.max(...v) : Number.NaN);
  return {
    timerLate: max(parts.timerLate),
    timerToSchedule: max(parts.timerToSchedule),
    scheduleToStart: max(parts.scheduleToStart),
    execution: max(parts.execution),
    completeToTimer: max(parts.completeToTimer),
    samples: sample.length,
  };
}

function perThousand(step: CapacityStep, idleRss: number | undefined) {
  const k = 1000 / step.inFlight;
  return {
    workerCpu: (step.cpu.worker ?? Number.NaN) * k,
    serverCpu: (step.cpu.server ?? Number.NaN) * k,
    workerRssMiB: ((step.workerMemoryMiB?.rss ?? Number.NaN) - (idleRss ?? 0)) * k,
  };
}

/**
 * A sentence naming what ran out first at a step: the part of the slowest poll cycles that grew most says which
 * component made the calls late; the CPU figures say whether that component, or the whole machine, was saturated.
 */
export function limitedBy(step: CapacityStep | undefined): string {
  if (!step) return 'not measured';
  const { worker = 0, server = 0, bench = 0, machine } = step.cpu;
  const others = Math.max(0, machine * cpus().length - worker - server - bench); // machine % is of all cores
  const c = step.cycle;
  const [culprit, value] = Object.entries({
    'the Temporal dev server: it fired poll timers late': c.timerLate,
    'workflow tasks (timer fired → read scheduled): worker and server round trips': c.timerToSchedule,
    'the worker: reads waited for an activity slot or poller': c.scheduleToStart,
    'the reads themselves (simulator and HTTP)': c.execution,
    'workflow tasks (read done → next timer): worker and server round trips': c.completeToTimer,
  }).sort((a, b) => b[1] - a[1])[0]!;
  const cpu =
    `worker ${worker.toFixed(0)}% of a core, dev server ${server.toFixed(0)}%, simulator+client ${bench.toFixed(0)}%, ` +
    `other processes ~${others.toFixed(0)}%; machine ${machine.toFixed(0)}% of all cores`;
  const saturated =
    machine >= 85
      ? 'the machine was saturated'
      : worker >= 90 || server >= 90
        ? 'one process was saturated'
        : 'nothing was saturated';
  return `${culprit} (up to ${ms(value)} in the slowest cycles); ${saturated} (${cpu})`;
}

export function describeStep(s: CapacityStep): string {
  const cpu = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(0)}%`);
  return (
    `${s.inFlight} in flight: poll lag p50 ${ms(s.lag.p50)}, p99 ${ms(s.lag.p99)}, max ${ms(s.lag.max)} ` +
    `(${s.lag.samples} reads, ${s.lag.overdue} overdue) ${s.ok ? 'OK' : 'OVER'}; CPU worker ${cpu(s.cpu.worker)}, ` +
    `server ${cpu(s.cpu.server)}, sim+client ${cpu(s.cpu.bench)}, machine ${cpu(s.cpu.machine)}; worker RSS ` +
    `${s.workerMemoryMiB?.rss.toFixed(0) ?? 'n/a'} MiB; slowest cycles of the ${s.cycle.samples} most-lagged calls: timer late ${ms(s.cycle.timerLate)}, fired→scheduled ` +
    `${ms(s.cycle.timerToSchedule)}, schedule→start ${ms(s.cycle.scheduleToStart)}, read ${ms(s.cycle.execution)}, ` +
    `done→next timer ${ms(s.cycle.completeToTimer)}; starting took ${s.startSeconds.toFixed(1)} s; load ${s.loadAverage.join(' ')}`
  );
}

if (require.main === module) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const options: CapacityOptions = {
    ...defaultCapacityOptions,
    ...(arg('budget') ? { budgetSeconds: Number(arg('budget')) } : {}),
    ...(arg('steps') ? { steps: arg('steps')!.split(',').map(Number) } : {}),
  };
  runCapacityBench(options).then(
    (r) =>
      console.log(
        `capacity: ${r.capacity} calls in flight within ${options.lagLimitMs} ms p99 lag; limited by ${r.limitedBy}`,
      ),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
