/**
 * `npm run bench`: all six benchmarks in one run (about 18 minutes on 2 cores), every figure printed, then
 * docs/benchmarks.md and docs/benchmarks-creates.svg rewritten from them.
 *
 *   npx tsx bench/run.ts [--only cost,latency,campaign,capacity,shared,targets] [--no-write]
 *   npx tsx bench/run.ts --render /tmp/agentphone-bench-<time>.json   (the document again from a run's raw figures)
 *
 * Sizes can be changed for a quick look (the document is then still written, with the sizes used):
 * BENCH_CAMPAIGN_TARGETS (1000), BENCH_CAMPAIGN_REPEATS (3), BENCH_SEQUENTIAL_TARGETS (150),
 * BENCH_CAMPAIGN_BUDGET seconds (480), BENCH_CAPACITY_BUDGET seconds (270), BENCH_LATENCY_CALLS (60),
 * BENCH_SHARED_TARGETS per campaign (200), BENCH_SHARED_SINGLE_EVERY ms (1000), BENCH_SHARED_CONCURRENCY (5),
 * BENCH_TARGETS_ROWS (100000), BENCH_TARGETS_BEFORE_PAGES (10).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTemporalBinary } from '../src/dev/temporal-binaries';
import { type CampaignBenchResult, concurrencyNeeded, describeCampaign, runCampaignBench } from './campaign';
import { type CapacityResult, defaultCapacityOptions, runCapacityBench } from './capacity';
import { type CostResult, runCostBench } from './cost';
import { type LatencyResult, runLatencyBench } from './latency';
import { defaultSharedKeyOptions, runSharedKeyBench, type SharedKeyResult } from './shared-key';
import { defaultTargetsOptions, describeTargets, runTargetsBench, type TargetsBenchResult } from './targets';
import { createsChartSpec, renderSvg } from './helpers/chart';
import { loadAverage, machineInfo } from './helpers/machine';
import { minuteScale } from './helpers/scale';
import { quietRuntime, root } from './helpers/temporal';
import { type BenchReport, headline, renderReport } from './report';

const sections = ['cost', 'latency', 'campaign', 'capacity', 'shared', 'targets'] as const;
type Section = (typeof sections)[number];

const env = (name: string, fallback: number) => {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : Number(value);
};

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const renderAt = args.indexOf('--render');
  if (renderAt >= 0) {
    // Re-renders the document from a run's raw figures (printed as "raw figures: …"), without measuring again.
    const saved = JSON.parse(readFileSync(args[renderAt + 1]!, 'utf8')) as BenchReport;
    await publish({ ...saved, startedAt: new Date(saved.startedAt) }, true);
    return 0;
  }
  const onlyAt = args.indexOf('--only');
  const only = new Set<Section>(onlyAt >= 0 ? (args[onlyAt + 1]!.split(',') as Section[]) : sections);
  const write = !args.includes('--no-write') && only.size === sections.length;
  quietRuntime();

  const startedAt = new Date();
  const began = Date.now();
  const machine = machineInfo();
  const temporalCli = execFileSync(findTemporalBinary('cli'), ['--version'], { encoding: 'utf8' })
    .trim()
    .replace(/^temporal version /, 'Temporal CLI ');
  console.log(
    `agentphone-temporal benchmarks — ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${temporalCli}`,
  );
  console.log(
    `load average at start: ${machine.loadAverage.map((l) => l.toFixed(2)).join(' / ')} (re-measure on a quiet machine)\n`,
  );

  const report: BenchReport = {
    startedAt,
    seconds: 0,
    machine,
    loadAtEnd: machine.loadAverage,
    temporalCli,
    errors: {},
  };
  const section = async <T>(name: Section, title: string, run: () => Promise<T>): Promise<T | undefined> => {
    if (!only.has(name)) return undefined;
    console.log(`== ${title}`);
    const t0 = Date.now();
    try {
      const result = await run();
      console.log(`   (${((Date.now() - t0) / 1000).toFixed(0)} s, load ${loadAverage().join(' ')})\n`);
      return result;
    } catch (error) {
      console.error(`   ${name} failed:`, error);
      report.errors[name] = error instanceof Error ? error.message : String(error);
      return undefined;
    }
  };

  const cost: CostResult | undefined = await section(
    'cost',
    '3. Cost per call (history events, Temporal Cloud actions)',
    () => runCostBench(),
  );
  const latency: LatencyResult | undefined = await section('latency', '4. Reaction latency at real 10 s polling', () =>
    runLatencyBench(env('BENCH_LATENCY_CALLS', 60)),
  );
  const campaign: CampaignBenchResult | undefined = await section(
    'campaign',
    '1. Campaign makespan against the ceiling',
    async () => {
      console.log(`   maxConcurrentCalls 20: ${concurrencyNeeded()}`);
      const result = await runCampaignBench({
        targets: env('BENCH_CAMPAIGN_TARGETS', 1000),
        repeats: env('BENCH_CAMPAIGN_REPEATS', 3),
        sequentialTargets: env('BENCH_SEQUENTIAL_TARGETS', 150),
        maxConcurrentCalls: 20,
        budgetSeconds: env('BENCH_CAMPAIGN_BUDGET', 480),
      });
      describeCampaign(result).forEach((line) => console.log(`  ${line}`));
      return result;
    },
  );
  const capacity: CapacityResult | undefined = await section(
    'capacity',
    '2. In-flight capacity of one worker',
    async () => {
      const result = await runCapacityBench({
        ...defaultCapacityOptions,
        budgetSeconds: env('BENCH_CAPACITY_BUDGET', 270),
      });
      console.log(
        `  capacity: ${result.capacity} calls in flight within ${result.options.lagLimitMs} ms p99 poll lag; limited by ${result.limitedBy}`,
      );
      return result;
    },
  );

  const shared: SharedKeyResult | undefined = await section(
    'shared',
    '5. One API key: two campaigns and single calls, with the dial gate and before it',
    () =>
      runSharedKeyBench({
        ...defaultSharedKeyOptions,
        targetsPerCampaign: env('BENCH_SHARED_TARGETS', defaultSharedKeyOptions.targetsPerCampaign),
        singleEveryMs: env('BENCH_SHARED_SINGLE_EVERY', defaultSharedKeyOptions.singleEveryMs),
        maxConcurrentCalls: env('BENCH_SHARED_CONCURRENCY', defaultSharedKeyOptions.maxConcurrentCalls),
      }),
  );

  const targets: TargetsBenchResult | undefined = await section(
    'targets',
    '6. A 100,000-row CSV list at the worker: validating it and paging through it, with the cache and before it',
    async () => {
      const result = await runTargetsBench({
        rows: env('BENCH_TARGETS_ROWS', defaultTargetsOptions.rows),
        beforePages: env('BENCH_TARGETS_BEFORE_PAGES', defaultTargetsOptions.beforePages),
      });
      describeTargets(result).forEach((line) => console.log(`  ${line}`));
      return result;
    },
  );

  Object.assign(report, {
    ...(shared ? { shared } : {}),
    ...(targets ? { targets } : {}),
    ...(cost ? { cost } : {}),
    ...(latency ? { latency } : {}),
    ...(campaign ? { campaign } : {}),
    ...(capacity ? { capacity } : {}),
  });
  report.seconds = (Date.now() - began) / 1000;
  report.loadAtEnd = loadAverage();

  const raw = join(tmpdir(), `agentphone-bench-${startedAt.getTime()}.json`);
  writeFileSync(raw, JSON.stringify(report, null, 2));
  console.log(`raw figures: ${raw}`);

  await publish(report, write);
  console.log(`total: ${(report.seconds / 60).toFixed(1)} min`);
  return Object.keys(report.errors).length;
}

/** Draws the chart and writes docs/benchmarks.md from a run's figures (with `write`), and prints the headline. */
async function publish(report: BenchReport, write: boolean): Promise<void> {
  const { campaign } = report;
  if (campaign && write) {
    // The repeat with the median ratio, beside the sequential loop of the same repeat.
    const ratios = campaign.repeats.map((r) => r.ratio);
    const pick =
      campaign.repeats[ratios.indexOf(ratios.slice().sort((a, b) => a - b)[Math.floor((ratios.length - 1) / 2)]!)]!;
    try {
      const svg = await renderSvg(
        createsChartSpec(
          [
            { name: `callCampaignWorkflow (${campaign.options.targets} targets)`, perWindow: pick.createsPerWindow },
            { name: 'its creates refused with 429', perWindow: pick.refusedPerWindow },
            {
              name: `contract's sequential loop (${pick.sequential.targets} targets)`,
              perWindow: pick.sequential.createsPerWindow,
            },
          ],
          minuteScale.limit,
          'API minute',
        ),
      );
      writeFileSync(join(root, 'docs', 'benchmarks-creates.svg'), svg);
      report.chartFile = 'benchmarks-creates.svg';
      console.log('chart: docs/benchmarks-creates.svg');
    } catch (error) {
      console.error(`chart not rendered: ${error instanceof Error ? error.message : error}`);
    }
  }

  console.log(`\nheadline: ${headline(report)}`);
  if (write) {
    const file = join(root, 'docs', 'benchmarks.md');
    writeFileSync(file, renderReport(report) + standaloneSections(readFileSync(file, 'utf8')));
    console.log('written: docs/benchmarks.md');
  } else {
    console.log('docs/benchmarks.md not written (partial run or --no-write)');
  }
}

// The Temporal runtime keeps native handles open: exit explicitly, non-zero if a section failed.
main().then(
  (failures) => process.exit(failures ? 1 : 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

/**
 * The sections that scripts run on their own write (the contact store's: `bench/dnc-import.ts`,
 * `bench/policy-check.ts`), each marked by a "replaces this section only" comment: kept as they are, after the run's.
 */
function standaloneSections(previous: string): string {
  const marker = previous.search(
    /^<!-- Written by `npx tsx bench\/[\w-]+\.ts`, which replaces this section only\. -->$/m,
  );
  if (marker < 0) return '';
  const heading = previous.lastIndexOf('\n## ', marker);
  return `\n${previous.slice(heading < 0 ? marker : heading + 1).trimEnd()}\n`;
}
