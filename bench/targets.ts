/**
 * Benchmark 6: a 100,000-row CSV list at the worker. The campaign validates it once (`inspectCampaignTargets`) and
 * then reads it in pages of 200 (`loadCampaignTargets`); this measures both, in-process as the worker calls them,
 * for this package (the worker keeps a file's valid targets once it has read them) and for the package at commit
 * b4415aa (every page read, hashed and validated the whole file again). Each variant runs in a node process of its
 * own, so that its peaks are its own.
 *
 *   npx tsx bench/targets.ts [--rows 100000] [--before-pages 10]
 *
 * `--before-pages`: how many pages the package before runs (spread over the list). Each of its pages is the same
 * full pass whatever its offset, so its total is projected from them; `--before-pages 500` runs them all (1.6 h on
 * the 2-core machine of docs/benchmarks.md).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ActivityDeps } from '../src/activities';
import type { CampaignActivities } from '../src/activities/campaign';
import { createsPerWindow, rateWindowMs } from '../src/agentphone/contract';
import { defaultGateTaskQueue } from '../src/config';
import { runTsChild } from './helpers/child';
import { loadAverage, processMemoryMiB } from './helpers/machine';
import { benchTargets, ms } from './helpers/scale';
import { mean, quantile } from './helpers/stats';
import { root } from './helpers/temporal';

/** The package before the worker kept a file's targets. Override with BENCH_TARGETS_BEFORE_COMMIT. */
export const targetsBeforeCommit = process.env.BENCH_TARGETS_BEFORE_COMMIT || 'b4415aa';

/** The campaign workflow's page (src/workflows/campaign.ts). */
const pageSize = 200;

export interface TargetsOptions {
  rows: number;
  /** Pages the package before runs, spread over the list; its total is projected from them. */
  beforePages: number;
}

export const defaultTargetsOptions: TargetsOptions = { rows: 100_000, beforePages: 10 };

type Side = 'before' | 'after';
type Phase = 'inspect' | 'pages';

/** What one child process measured: one side, one phase. */
export interface TargetsVariant {
  side: Side;
  phase: Phase;
  /** Wall time of the activity calls, in ms (for pages: of those that ran). */
  ms: number;
  /** Pages that ran, of `pagesInList`. */
  pages: number;
  pagesInList: number;
  /** Each page's time, in ms, in the order they ran. */
  pageMs: number[];
  /** Wall time for every page of the list: measured when all ran, else projected from those that did (`allPages`). */
  allPagesMs: number;
  /** Valid targets the calls returned (inspection: its count; pages: all they served). */
  targets: number;
  /** Resident memory when the process was ready (its modules loaded) and at its peak (VmHWM), MiB. */
  rssMiB: { start: number; peak: number };
  /**
   * V8 heap, MiB: in use after a full GC at the start and at the end (what the process keeps), and the largest
   * used and committed sizes seen (sampled every 10 ms and after each call).
   */
  heapMiB: { start: number; retained: number; peakUsed: number; peakCommitted: number };
  /** How long before the first call the file was last changed, in ms. */
  fileAgeMs: number;
}

export interface TargetsBenchResult {
  /** When this section began (it may run alone, and be merged into a full run's figures). */
  startedAt: string;
  options: TargetsOptions;
  beforeCommit: string;
  file: { rows: number; bytes: number };
  variants: TargetsVariant[];
  load: { start: [number, number, number]; end: [number, number, number] };
}

/** `rows` distinct valid numbers (the benchmarks' own), one target a row, as a campaign's CSV. */
function writeTargetsCsv(path: string, rows: number): void {
  const lines = benchTargets(rows).map((t, i) => `${t.toPhoneNumber},${t.objective},Shop ${i + 1}`);
  writeFileSync(path, `to_phone_number,objective,business_name\n${lines.join('\n')}\n`);
}

export async function runTargetsBench(
  options: TargetsOptions = defaultTargetsOptions,
  log: (line: string) => void = console.log,
): Promise<TargetsBenchResult> {
  const startedAt = new Date().toISOString();
  const start = loadAverage();
  const dir = mkdtempSync(join(tmpdir(), 'agentphone-targets-'));
  try {
    const csv = join(dir, 'targets.csv');
    writeTargetsCsv(csv, options.rows);
    const bytes = statSync(csv).size;
    log(`   ${options.rows.toLocaleString('en')} rows, ${(bytes / 1024 / 1024).toFixed(1)} MiB: ${csv}`);
    // Its `src/` as it was, read-only for the repository (no worktree), with this node_modules (as helpers/before.ts).
    const before = join(dir, 'before');
    execFileSync('sh', [
      '-c',
      'mkdir "$3" && git -C "$1" archive "$2" src package.json | tar -x -C "$3"',
      'sh',
      root,
      targetsBeforeCommit,
      before,
    ]);
    symlinkSync(join(root, 'node_modules'), join(before, 'node_modules'), 'dir');

    const variants: TargetsVariant[] = [];
    // One at a time: on a small machine two would share its cores and each other's time.
    for (const phase of ['inspect', 'pages'] as const) {
      for (const side of ['before', 'after'] as const) {
        const pages = side === 'before' ? options.beforePages : Math.ceil(options.rows / pageSize);
        const args = ['--child', side, phase, csv, String(options.rows), String(pages), before];
        const child = runTsChild('targets.ts', args);
        const lines = await child.done;
        const line = lines.find((l) => l.startsWith('result '));
        if (!line) throw new Error(`the ${side} ${phase} child printed no result`);
        const variant = JSON.parse(line.slice('result '.length)) as TargetsVariant;
        variants.push(variant);
        log(`   ${describeVariant(variant)}`);
      }
    }
    return {
      startedAt,
      options,
      beforeCommit: targetsBeforeCommit,
      file: { rows: options.rows, bytes },
      variants,
      load: { start, end: loadAverage() },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Like `ms`, with two decimals under 10 ms: a page served from memory takes a fraction of one. */
export const fineMs = (value: number) => (Math.abs(value) < 10 ? `${value.toFixed(2)} ms` : ms(value));

function describeVariant(v: TargetsVariant): string {
  const what = v.phase === 'inspect' ? 'validate' : `${v.pages} of ${v.pagesInList} pages`;
  const time =
    v.phase === 'inspect'
      ? ms(v.ms)
      : `${ms(v.ms)} (first ${fineMs(v.pageMs[0] ?? Number.NaN)}, then p50 ${fineMs(quantile(v.pageMs.slice(1), 0.5))}, ` +
        `max ${fineMs(Math.max(...v.pageMs.slice(1)))}` +
        `${v.pages < v.pagesInList ? `; all ${v.pagesInList}: ${ms(v.allPagesMs)} projected` : ''}; ` +
        `file changed ${ms(v.fileAgeMs)} before)`;
  return (
    `${v.side.padEnd(6)} ${what}: ${time}; RSS ${v.rssMiB.start.toFixed(0)} → peak ${v.rssMiB.peak.toFixed(0)} MiB; ` +
    `heap peak ${v.heapMiB.peakUsed.toFixed(0)} MiB used / ${v.heapMiB.peakCommitted.toFixed(0)} committed, ` +
    `retained ${(v.heapMiB.retained - v.heapMiB.start).toFixed(1)} MiB`
  );
}

export function describeTargets(r: TargetsBenchResult): string[] {
  const find = (side: Side, phase: Phase) => r.variants.find((v) => v.side === side && v.phase === phase);
  const lines: string[] = [];
  for (const phase of ['inspect', 'pages'] as const) {
    const before = find('before', phase);
    const after = find('after', phase);
    if (!before || !after) continue;
    const time = (v: TargetsVariant) => (phase === 'inspect' ? v.ms : v.allPagesMs);
    lines.push(
      `${phase === 'inspect' ? 'validating' : 'paging through all of it'}: ${ms(time(before))} before, ` +
        `${ms(time(after))} after (${(time(before) / time(after)).toFixed(1)}×); peak RSS ` +
        `${before.rssMiB.peak.toFixed(0)} MiB before, ${after.rssMiB.peak.toFixed(0)} MiB after`,
    );
  }
  return lines;
}

/**
 * Every page's time from those that ran: their sum when all ran. Otherwise the first (which pays for the JIT's warm-up
 * once) plus the mean of the others for each page left: every page of the package before is the same full pass.
 */
function allPages(pageMs: number[], pagesInList: number): number {
  const [first = Number.NaN, ...rest] = pageMs;
  if (pageMs.length === pagesInList) return pageMs.reduce((a, b) => a + b, 0);
  return first + (rest.length ? mean(rest) : first) * (pagesInList - 1);
}

/** A child process: one side and one phase, its figures printed as `result <json>`. */
async function runChild(args: string[]): Promise<void> {
  const [side, phase, csv, rows, pagesArg, beforeDir] = args as [Side, Phase, string, string, string, string];
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const from = side === 'before' ? beforeDir : root;
  // Loaded by path at run time, so that each process holds one package only, and type-checking never reaches the old.
  const { createCampaignActivities } = createRequire(join(from, 'package.json'))('./src/activities/campaign') as {
    createCampaignActivities: (deps: Omit<ActivityDeps, 'client'>) => CampaignActivities;
  };
  // What createCallWorker gives the campaign activities: the namespace's search attributes (as after
  // `npm run setup:temporal`), the contract's ceiling, and the key's dial gate on its default queue.
  const rateLimit = { count: createsPerWindow, windowMs: rateWindowMs };
  const activities = createCampaignActivities({
    searchAttributes: true,
    rateLimit,
    gate: { ceiling: rateLimit, taskQueue: defaultGateTaskQueue, fingerprint: 'bench-targets' },
  });

  // The hash the campaign approved (its inspection ran on another worker): taken before anything is measured.
  const sourceHash = createHash('sha256').update(readFileSync(csv)).digest('hex');
  const pagesInList = Math.ceil(Number(rows) / pageSize);

  const mib = (bytes: number) => bytes / 1024 / 1024;
  let peakUsed = 0;
  let peakCommitted = 0;
  const sample = () => {
    const { heapUsed, heapTotal } = process.memoryUsage();
    peakUsed = Math.max(peakUsed, mib(heapUsed));
    peakCommitted = Math.max(peakCommitted, mib(heapTotal));
  };
  gc();
  const heapStart = mib(process.memoryUsage().heapUsed);
  const rssStart = processMemoryMiB(process.pid)?.rss ?? Number.NaN;
  const sampler = setInterval(sample, 10);
  const fileAgeMs = Date.now() - statSync(csv).ctimeMs;

  const pageMs: number[] = [];
  let targets = 0;
  const t0 = performance.now();
  if (phase === 'inspect') {
    const inspected = await activities.inspectCampaignTargets({ targetsCsvPath: csv });
    if (!inspected.ok) throw new Error(inspected.message);
    targets = inspected.inspection.valid;
    sample();
  } else {
    const runs = Math.min(Number(pagesArg), pagesInList);
    const step = pagesInList / runs;
    for (let i = 0; i < runs; i++) {
      const page = Math.floor(i * step);
      const p0 = performance.now();
      const valid = await activities.loadCampaignTargets({
        targetsCsvPath: csv,
        sourceHash,
        from: page * pageSize,
        count: pageSize,
      });
      pageMs.push(performance.now() - p0);
      targets += valid.length;
      sample();
    }
  }
  const elapsed = performance.now() - t0;
  clearInterval(sampler);
  gc();
  const variant: TargetsVariant = {
    side,
    phase,
    ms: phase === 'inspect' ? elapsed : pageMs.reduce((a, b) => a + b, 0),
    pages: pageMs.length,
    pagesInList,
    pageMs,
    allPagesMs: phase === 'inspect' ? elapsed : allPages(pageMs, pagesInList),
    targets,
    rssMiB: { start: rssStart, peak: processMemoryMiB(process.pid)?.peak ?? Number.NaN },
    heapMiB: { start: heapStart, retained: mib(process.memoryUsage().heapUsed), peakUsed, peakCommitted },
    fileAgeMs,
  };
  console.log(`result ${JSON.stringify(variant)}`);
}

if (require.main === module) {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    runChild(args.slice(1)).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  } else {
    const arg = (name: string, fallback: number) => {
      const i = args.indexOf(`--${name}`);
      return i >= 0 ? Number(args[i + 1]) : fallback;
    };
    runTargetsBench({
      rows: arg('rows', defaultTargetsOptions.rows),
      beforePages: arg('before-pages', defaultTargetsOptions.beforePages),
    })
      .then((result) => describeTargets(result).forEach((line) => console.log(`  ${line}`)))
      .catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
  }
}
