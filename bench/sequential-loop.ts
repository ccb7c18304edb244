/**
 * The alternative a user would write instead of this package: the contract's own loop, one call at a time.
 * Create, then read every 10 s until completed, failed or canceled (two more reads 2 s apart if the transcript or
 * summary lag), then the next target. A plain script over HTTP with `fetch`, no Temporal, against its own simulator
 * (as if it had the account to itself), on benchmark 1's clock (one API minute = one second).
 *
 *   npx tsx bench/sequential-loop.ts [--targets 20] [--json]
 */
import { startSimulator } from '../src/simulator';
import { benchTargets, minuteScale, ms } from './helpers/scale';
import { sleep } from './helpers/temporal';

export interface SequentialResult {
  targets: number;
  /** Create request to final read, per target. */
  perCallMs: number[];
  makespanMs: number;
  /** When each call was created at the simulator, ms epoch (for the chart). */
  createTimes: number[];
  status429: number;
  completed: number;
}

const terminal = ['completed', 'failed', 'canceled'];

export async function runSequentialLoop(targets: number): Promise<SequentialResult> {
  const { timeScale, pollMs } = minuteScale;
  const sim = await startSimulator({ progress: 'time', timeScale, credits: Number.POSITIVE_INFINITY });
  const headers = { 'x-api-key': sim.apiKey, 'content-type': 'application/json' };
  const rateLimitWaitMs = 60_000 * timeScale;
  const enrichmentMs = 2000 * timeScale;
  const perCallMs: number[] = [];
  let completed = 0;
  const started = performance.now();
  try {
    for (const target of benchTargets(targets)) {
      const t0 = performance.now();
      const body = JSON.stringify({ to_phone_number: target.toPhoneNumber, objective: target.objective });
      let created = await fetch(`${sim.baseUrl}/calls`, { method: 'POST', headers, body });
      if (created.status === 429) {
        // The contract: wait 60 s, retry once.
        await created.arrayBuffer();
        await sleep(rateLimitWaitMs);
        created = await fetch(`${sim.baseUrl}/calls`, { method: 'POST', headers, body });
      }
      if (created.status !== 202) throw new Error(`create answered ${created.status}`);
      const callId = ((await created.json()) as { data: { call_id: string } }).data.call_id;
      const read = async () =>
        (
          (await (await fetch(`${sim.baseUrl}/calls/${callId}`, { headers })).json()) as {
            data: { status: string; summary?: string; transcript?: string };
          }
        ).data;
      let call = await read();
      for (let i = 0; i < 100 && !terminal.includes(call.status); i++) {
        await sleep(pollMs);
        call = await read();
      }
      for (let i = 0; i < 2 && call.status === 'completed' && !(call.summary && call.transcript); i++) {
        await sleep(enrichmentMs);
        call = await read();
      }
      if (call.status === 'completed') completed++;
      perCallMs.push(performance.now() - t0);
    }
    const makespanMs = performance.now() - started;
    const log = sim.requests();
    return {
      targets,
      perCallMs,
      makespanMs,
      createTimes: sim.calls().map((call) => call.createdAt),
      status429: log.filter((r) => r.status === 429).length,
      completed,
    };
  } finally {
    await sim.close();
  }
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--targets');
  const targets = at >= 0 ? Number(args[at + 1]) : 20;
  runSequentialLoop(targets).then(
    (result) => {
      if (args.includes('--json')) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      const per = [...result.perCallMs].sort((a, b) => a - b);
      console.log(
        `sequential loop: ${result.targets} targets in ${ms(result.makespanMs)} ` +
          `(median ${ms(per[Math.floor(per.length / 2)] ?? Number.NaN)} a call, ${result.status429} × 429, ${result.completed} completed)`,
      );
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
