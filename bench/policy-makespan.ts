/**
 * Benchmark 9: what the contact policy costs a campaign. Benchmark 1's campaign (1,000 targets at the API's ceiling,
 * one API minute = one second) run with the policy off and on, side by side in one run, alternating, so that both
 * meet the same machine: off, on, off, on. "On" is what the production worker does by default: every create first
 * passes the do-not-call list and the frequency caps of an embedded contact store (a fresh one each run), recorded
 * in the same transaction; the recipients' calling hours are left out (`hours.campaigns: false`), since the bench's
 * `+1415` numbers would otherwise wait for California's morning. Prints its figures and writes its own section of
 * docs/benchmarks.md (that section only).
 *
 *   npx tsx bench/policy-makespan.ts [--targets 1000] [--rounds 2] [--no-write]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openContactStore } from '../src/contact-store';
import { parseContactPolicy } from '../src/policy';
import { type CampaignBenchResult, runCampaignBench } from './campaign';
import { loadAverage } from './helpers/machine';
import { ms } from './helpers/scale';
import { median } from './helpers/stats';
import { table, utc, writeBenchSection } from './dnc-import';

export const policyMakespanMarker =
  '<!-- Written by `npx tsx bench/policy-makespan.ts`, which replaces this section only. -->';

type Variant = 'off' | 'on';

interface PolicyMakespanRun {
  round: number;
  variant: Variant;
  result: CampaignBenchResult;
  load: number;
}

async function runOnce(variant: Variant, targets: number): Promise<CampaignBenchResult> {
  const options = { targets, repeats: 1, sequentialTargets: 20, maxConcurrentCalls: 20, log: () => {} };
  if (variant === 'off') return runCampaignBench(options);
  const dataDir = mkdtempSync(join(tmpdir(), 'agentphone-bench-policy-'));
  const store = await openContactStore({ dataDir });
  try {
    const policy = parseContactPolicy({ hours: { campaigns: false } }, 'benchmark 9: caps and DNC, any hour');
    return await runCampaignBench({ ...options, contacts: { store, policy } });
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runPolicyMakespanBench(targets: number, rounds: number): Promise<PolicyMakespanRun[]> {
  const runs: PolicyMakespanRun[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const variant of ['off', 'on'] as const) {
      const load = loadAverage()[0]!;
      const result = await runOnce(variant, targets);
      const r = result.repeats[0]!;
      console.log(
        `  round ${round}, policy ${variant}: makespan ${ms(r.makespanMs)} = ${r.ratio.toFixed(3)} × ideal, ` +
          `${r.status429} × 429, ${r.achieved} achieved (load ${load.toFixed(2)})`,
      );
      runs.push({ round, variant, result, load });
    }
  }
  return runs;
}

export function policyMakespanSection(runs: PolicyMakespanRun[], targets: number, startedAt: string): string[] {
  const ratios = (variant: Variant) => runs.filter((r) => r.variant === variant).map((r) => r.result.repeats[0]!.ratio);
  const [off, on] = [median(ratios('off')), median(ratios('on'))];
  const change = (on / off - 1) * 100;
  // The target is a cost: a run with the policy that happens to be faster meets it.
  const within = change <= 1;
  return [
    "## 9. The contact policy's cost on a campaign's makespan",
    policyMakespanMarker,
    '',
    `Measured by \`npx tsx bench/policy-makespan.ts\` on ${utc(startedAt)} UTC, apart from \`npm run bench\` (which ` +
      'keeps this section as it is).',
    '',
    `**Setup.** Benchmark 1's campaign (${targets.toLocaleString('en')} targets, one API minute = one second, ` +
      '`callsPerMinute: 10`, `maxConcurrentCalls: 20`, the key’s dial gate on), one repeat per run, each run on a ' +
      'dev server of its own, the policy **off** (a worker without a contact store, as `createCallWorker` without ' +
      '`contacts`) and **on** (the production worker’s default: an embedded contact store, fresh each run, checked ' +
      'before every create: the do-not-call list, then the caps of 3 calls per number in 24 h and 1 per campaign, ' +
      'the contact recorded in the same transaction, the outcome recorded at the end), alternating so that both meet ' +
      "the same machine. The recipients' calling hours are left out (`hours.campaigns: false`): they hold calls, " +
      "they cost none. Sequential loop beside each run: 20 targets (benchmark 1's comparison, not used here).",
    '',
    table(
      ['round', 'policy', 'makespan', '÷ ideal', '429s', 'max creates in a window', 'achieved', 'load (1 min)'],
      runs.map(({ round, variant, result, load }) => {
        const r = result.repeats[0]!;
        return [
          round,
          variant,
          ms(r.makespanMs),
          r.ratio.toFixed(3),
          r.status429,
          r.maxCreatesInWindow,
          r.achieved,
          load.toFixed(2),
        ];
      }),
    ),
    '',
    `- **Makespan ÷ ideal: ${off.toFixed(3)} off, ${on.toFixed(3)} on** (medians of ${ratios('off').length} runs ` +
      `each): with the policy the makespan is **${Math.abs(change).toFixed(1)} % ${change >= 0 ? 'longer' : 'shorter'}** ` +
      `(target: within 1 %: ${within ? 'met' : 'not met'}). Benchmark 1 itself spread by 1.6 % between its three ` +
      'repeats of one run, so a difference below that is within the noise of one run.',
    "- Why: the makespan here is bound by the 20 calls in flight, not by the key's window (benchmark 1), so " +
      "whatever a call's path gains adds to it. With the policy each call makes two transactions on the contact " +
      'store (the check with its reservation before the create, the outcome after the call ends), and the embedded ' +
      "store (PGlite) runs on the worker's own thread, where the workflows and the other activities wait for it " +
      '(section 7). PostgreSQL, the choice for several workers, was not measured here.',
    `- Machine: ${cpus().length} cores, shared with other engineers' test runs; times are pessimistic.`,
    '',
  ];
}

if (require.main === module) {
  const { values } = parseArgs({
    options: { targets: { type: 'string' }, rounds: { type: 'string' }, 'no-write': { type: 'boolean' } },
  });
  const targets = Number(values.targets ?? 1000);
  const rounds = Number(values.rounds ?? 2);
  const startedAt = new Date().toISOString();
  console.log(`== 9. The contact policy's cost on a campaign's makespan: ${targets} targets, ${rounds} rounds`);
  runPolicyMakespanBench(targets, rounds)
    .then((runs) => {
      const lines = policyMakespanSection(runs, targets, startedAt);
      lines.forEach((line) => console.log(line));
      if (values['no-write']) console.log('docs/benchmarks.md not written (--no-write)');
      else console.log(`written: ${writeBenchSection(policyMakespanMarker, lines)} (section 9 only)`);
      process.exit(0);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
