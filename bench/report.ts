// Writes docs/benchmarks.md from the figures of one `npm run bench`. Every number in it comes from the run.
import { describeKinds } from './helpers/actions';
import type { MachineInfo } from './helpers/machine';
import { apiTime, minuteScale, ms } from './helpers/scale';
import { formatSpread, mean, median, quantile, spread } from './helpers/stats';
import type { CampaignBenchResult } from './campaign';
import type { CapacityResult } from './capacity';
import type { CallCost, CostResult } from './cost';
import type { GateCost } from './helpers/gate';
import type { LatencyResult } from './latency';
import type { SharedKeyResult, SharedKeySide } from './shared-key';
import { fineMs, type TargetsBenchResult, type TargetsVariant } from './targets';

export interface BenchReport {
  startedAt: Date;
  seconds: number;
  machine: MachineInfo;
  loadAtEnd: [number, number, number];
  temporalCli: string;
  campaign?: CampaignBenchResult;
  capacity?: CapacityResult;
  cost?: CostResult;
  latency?: LatencyResult;
  shared?: SharedKeyResult;
  targets?: TargetsBenchResult;
  errors: Record<string, string>;
  chartFile?: string;
}

const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const table = (head: string[], rows: (string | number)[][]) =>
  [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
const pct = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? 'n/a' : `${v.toFixed(0)}%`);
const x = (v: number, digits = 2) => `${v.toFixed(digits)}×`;
const utc = (iso: string | Date) => new Date(iso).toISOString().slice(0, 16).replace('T', ' ');
/** Whether a section began outside the run's own time (measured alone, its figures merged into the run's). */
const ranApart = (r: BenchReport, startedAt: string) => {
  const at = new Date(startedAt).getTime();
  const start = new Date(r.startedAt).getTime();
  return at < start || at > start + r.seconds * 1000;
};
/** A duration that may run to hours: "1.61 h", "12.3 min", else as `ms` gives it. */
const long = (v: number) =>
  v >= 3_600_000 ? `${(v / 3_600_000).toFixed(2)} h` : v >= 120_000 ? `${(v / 60_000).toFixed(1)} min` : ms(v);

export function headline(r: BenchReport): string {
  const parts: string[] = [];
  const before = r.shared?.before;
  const after = r.shared?.after;
  if (after) {
    const singlesFailed = (s: SharedKeySide) => s.singles.failedByType.RateLimited ?? 0;
    parts.push(
      `On one API key shared by two campaigns and a backend's single calls (60-fold clock), the dial gate let ` +
        `${after.status429} requests be refused with 429 and at most ${after.maxAttemptsInWindow} create attempts into any ` +
        `${minuteScale.windowMs} ms window` +
        (before
          ? `, where the package before it (each campaign pacing itself) drew ${before.status429} refusals and up to ` +
            `${before.maxAttemptsInWindow} attempts a window and failed ${singlesFailed(before)} of its single calls RateLimited`
          : '') +
        `; ${singlesFailed(after)} single calls failed RateLimited, they waited a median ${ms(after.singles.waitedForSlotMs?.p50 ?? Number.NaN)} ` +
        `for their slot (p99 ${ms(after.singles.waitedForSlotMs?.p99 ?? Number.NaN)}), and the two campaigns split the ` +
        `rest ${(after.whileBoth.share[0] * 100).toFixed(0)}/${(after.whileBoth.share[1] * 100).toFixed(0)}. ` +
        `The combined makespan was ${x(after.ratio)} the ideal${after.finished ? '' : ' (the run did not end within its time limit)'}` +
        (before ? ` (before: ${x(before.ratio)})` : '') +
        (after.ratio > 1.05
          ? `, short of the 1.05 sought: each campaign call held one of its ${r.shared!.options.maxConcurrentCalls} slots ` +
            `${after.inFlight.map((f) => ms(f.holdMs, 1)).join(' and ')}` +
            (before ? ` (before: ${before.inFlight.map((f) => ms(f.holdMs, 1)).join(' and ')})` : '') +
            ' for a call of 0.73 s, the line and the claim being round trips through Temporal that this 60-fold clock ' +
            'does not shorten (see 5).'
          : '.'),
    );
  }
  const c = r.campaign;
  if (c) {
    parts.push(
      `A campaign of ${c.options.targets.toLocaleString('en')} targets against the AgentPhone simulator finished in ` +
        `${apiTime(c.makespanMs.median)} of API time, ${x(c.ratio.median)} the physical limit set by the API's ` +
        `${minuteScale.limit} creates a minute (${apiTime(c.idealMs)}), with a median of ` +
        `${median(c.repeats.map((p) => p.status429))} rate-limit refusals a run and no \`timing.rateMargin\`` +
        `${c.ratio.median > 1.05 ? ' (why it is not nearer 1: benchmark 1 below)' : ''}; the ` +
        `contract's own loop, one call at a time, would take ${x(c.sequentialRatio.median, 1)} as long ` +
        `(${apiTime(median(c.repeats.map((p) => p.sequential.projectedMakespanMs)))}).`,
    );
  }
  if (r.capacity) {
    const failed = r.capacity.steps.find((s) => !s.ok);
    const byServer = r.capacity.limitedBy.startsWith('the Temporal dev server');
    parts.push(
      `One worker on a ${r.machine.cores}-core machine followed ${r.capacity.capacity.toLocaleString('en')} calls at once at ` +
        `the contract's 10 s polling with the poll lag within 1 s at p99${r.capacity.failedAt ? '' : ' (the most the run tried)'}` +
        (byServer && failed
          ? `; beyond that the local dev server fired timers late while the worker used ${failed.cpu.worker?.toFixed(0)}% of a core.`
          : '.'),
    );
  }
  if (r.cost) {
    const atScale = r.campaign?.cost;
    const gate = r.campaign?.gate ?? r.cost.gate;
    const queries = r.campaign?.rpc
      ? r.campaign.rpc.queries / Math.max(1, r.campaign.rpc.creates)
      : r.cost.gateMessages
        ? r.cost.gateMessages.queries / Math.max(1, r.cost.gateMessages.creates)
        : undefined;
    parts.push(
      `A typical 60 s call costs ${r.cost.indexed.total} Temporal Cloud actions (${r.cost.unindexed.total} without the ` +
        `package's search attributes${r.cost.before ? `; ${r.cost.before.indexed.total} before the gate` : ''}); as a campaign ` +
        `target it costs ${r.cost.campaign.perTargetActions.toFixed(0)} (the child start counts twice)` +
        (atScale && r.campaign
          ? `, and the campaign adds about ${(atScale.overheadActions / r.campaign.options.targets).toFixed(2)} per target.`
          : `, and a campaign adds ${r.cost.campaign.overheadActions} of its own.`) +
        (gate
          ? ` The key's dial gate adds ${gate.perCreate.total.toFixed(1)} actions and ${gate.perCreate.events.toFixed(0)} ` +
            `history events of its own per create${queries !== undefined ? `, plus ${queries.toFixed(0)} queries (also actions) while a create waits in its line` : ''}.`
          : ''),
    );
  }
  if (r.latency) {
    parts.push(
      `The result arrives a median ${ms(median(r.latency.reactionMs), 1)} after the call ends (p99 ` +
        `${ms(quantile(r.latency.reactionMs, 0.99), 1)}), as 10 s polling implies (mean 5 s, at most 10 s) plus ` +
        `${ms(median(r.latency.processingMs))} of the package's own reaction.`,
    );
  }
  const t = r.targets && targetFigures(r.targets);
  if (t) {
    parts.push(
      `A ${t.rows.toLocaleString('en')}-row CSV list is parsed and validated once per worker, no longer once per page: ` +
        `paging through all of it took ${long(t.after.pages.allPagesMs)} where the package before would take ` +
        `${long(t.before.pages.allPagesMs)} (${t.pagesSpeedup.toFixed(0)}× less; ${t.pagesInList} full passes), at a peak ` +
        `RSS of ${t.after.pages.rssMiB.peak.toFixed(0)} MiB (before: ${t.before.pages.rssMiB.peak.toFixed(0)} MiB), and ` +
        `the worker keeps ${t.keptMiB.toFixed(0)} MiB of heap for the list while it pages.`,
    );
  }
  return parts.join(' ');
}

export function renderReport(r: BenchReport): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` (\`tsx bench/run.ts\`) on ${r.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, ` +
      `in ${(r.seconds / 60).toFixed(1)} minutes. Every figure below is printed by that run and written here by it; ` +
      'none comes from a timed unit test. Each section also runs alone: ' +
      '`npx tsx bench/<campaign|capacity|cost|latency|shared-key|targets>.ts`.' +
      (r.targets && ranApart(r, r.targets.startedAt)
        ? ` Benchmark 6 was measured in a run of its own (\`npx tsx bench/run.ts --only targets\`) on ` +
          `${utc(r.targets.startedAt)} UTC, and its figures merged into this run's (\`bench/run.ts --render\`).`
        : ''),
    '',
    `> **Re-measure on a quiet machine.** This machine has ${m.cores} cores, and other engineers' test runs (test ` +
      'suites with dev servers of their own) ran on them during this run: the load average was ' +
      `${m.loadAverage.map((l) => l.toFixed(2)).join(' / ')} (1 / 5 / 15 min) at the start and ` +
      `${r.loadAtEnd.map((l) => l.toFixed(2)).join(' / ')} at the end (each section's table gives its own). Latencies, ` +
      'rates, the capacity figure and anything that depends on them are pessimistic here; counts (actions, events, ' +
      'creates per window, 429s) are not.',
    '',
    'Sizes can be reduced for a quick look with `BENCH_CAMPAIGN_TARGETS`, `BENCH_CAMPAIGN_REPEATS`, ' +
      '`BENCH_SEQUENTIAL_TARGETS`, `BENCH_CAMPAIGN_BUDGET`, `BENCH_CAPACITY_BUDGET`, `BENCH_LATENCY_CALLS`, ' +
      '`BENCH_SHARED_TARGETS`, `BENCH_SHARED_SINGLE_EVERY`, `BENCH_SHARED_CONCURRENCY`, `BENCH_TARGETS_ROWS` and ' +
      '`BENCH_TARGETS_BEFORE_PAGES` ' +
      '(see `bench/run.ts`); the figures below used the defaults unless the setup paragraphs say otherwise.',
    '',
    '## Headline',
    '',
    headline(r),
    '',
    '## Machine',
    '',
    table(
      ['', ''],
      [
        ['CPU', `${m.cpuModel}, ${m.cores} cores`],
        ['Memory', `${m.memoryGiB} GiB`],
        ['OS', m.os],
        ['Node.js', m.node],
        [
          'Temporal',
          `dev server from \`findTemporalBinary('cli')\` (${r.temporalCli}), in memory, via \`TestWorkflowEnvironment.createLocal\`, with the package's search attributes registered`,
        ],
        ['Load average at start', m.loadAverage.map((l) => l.toFixed(2)).join(' / ')],
        ['Load average at end', r.loadAtEnd.map((l) => l.toFixed(2)).join(' / ')],
      ],
    ),
    '',
  );
  for (const [section, error] of Object.entries(r.errors))
    out.push(`**${section} did not complete:** \`${error}\``, '');
  if (r.campaign) out.push(...campaignSection(r.campaign, r.chartFile));
  if (r.capacity) out.push(...capacitySection(r.capacity, m));
  if (r.cost) out.push(...costSection(r.cost, r.campaign, r.shared));
  if (r.latency) out.push(...latencySection(r.latency));
  if (r.shared) out.push(...sharedSection(r.shared));
  if (r.targets) out.push(...targetsSection(r.targets));
  out.push(...caveats());
  return `${out.join('\n')}\n`;
}

function campaignSection(c: CampaignBenchResult, chartFile: string | undefined): string[] {
  const { targets, sequentialTargets, maxConcurrentCalls } = c.options;
  const reps = c.repeats;
  const seqPerCall = reps.flatMap((p) => p.sequential.perCallMs);
  const lines = [
    '## 1. Campaign makespan against the ceiling',
    '',
    `**Setup.** ${targets.toLocaleString('en')} inline targets (distinct valid numbers; every call ends \`achieved\`), ` +
      `one API minute = one second: the simulator in time mode with \`timeScale: 1/60\` (its rate limit becomes ` +
      `${minuteScale.limit} creates per ${minuteScale.windowMs} ms sliding window; a call lasts 34 s of API time = ` +
      `${ms(minuteScale.callMs)}), and \`callCampaignWorkflow\` with \`callsPerMinute: ${minuteScale.limit}\`, ` +
      `\`timing: ${JSON.stringify(minuteScale.timing).replace(/"/g, "'").replace(/,/g, ', ')}\` and ` +
      `\`maxConcurrentCalls: ${maxConcurrentCalls}\`. The call itself does not make concurrency the limit: it holds ` +
      `its slot for ~${ms(minuteScale.callMs + minuteScale.pollMs)} (its ${ms(minuteScale.callMs)} plus at most one poll), ` +
      "less than a window, so one window's 10 creates are what is in flight (Little's law: 10 a window × 0.73 window " +
      '≈ 7); 20 doubles that for start and result latency and for children waiting in the gate’s line (what the ' +
      'line and its round trips really cost is measured below). Approval by the ' +
      '`approveCampaign` update. A dev server and an in-process worker (`createCallWorker`, default options, with ' +
      `\`rateLimit: { count: ${minuteScale.limit}, windowMs: ${minuteScale.windowMs} }\`, i.e. AGENTPHONE_RATE_LIMIT at this ` +
      "scale), so every create passes the key's dial gate, which the same worker runs on its own task queue.",
    '',
    '**No `timing.rateMargin`.** The package before the gate paced each campaign itself: it counted child starts, and ' +
      "a child's create reaches the API a few hundred milliseconds after its start, a jitter that does not shrink with " +
      `a scaled window, so this benchmark had to widen each window by \`rateMargin: '${minuteScale.beforeRateMargin}'\` ` +
      '(its default, 2% of the window, is 1.2 s at the real 60 s but 20 ms here). With the gate the campaign no longer ' +
      'paces itself: it starts up to `maxConcurrentCalls` children, each waits in the key’s line, and the gate counts ' +
      'each create from the moment its answer came back (the API had it by then), so no create sent a window after ' +
      "another's answer can share the API's window with it, whatever the latency. `rateMargin` is still accepted and " +
      'ignored by gated campaigns.',
    '',
    `**The alternative, side by side.** \`bench/sequential-loop.ts\`: the contract's loop as a plain script over the HTTP ` +
      'API with `fetch` (create; read at once and then every 10 s (scaled) until completed, failed or canceled; two ' +
      `reads 2 s apart if the transcript lags; next target), in its own process against its own simulator on the same ` +
      `clock, started when the campaign is approved. It runs the first ${sequentialTargets} of the same targets ` +
      `(${ms(mean(seqPerCall))} each: all ${targets.toLocaleString('en')} would take ` +
      `${((mean(seqPerCall) * targets) / 60_000).toFixed(1)} minutes at this scale) and its makespan for ` +
      `${targets.toLocaleString('en')} is projected as mean time per call × ${targets.toLocaleString('en')}: the loop ` +
      "has no state between calls, so the projection is exact up to the spread of a call's time (shown).",
    '',
    `**Ideal** = ⌈${targets}/${minuteScale.limit}⌉ windows + one call = ${ms(c.idealMs)} ` +
      `(${apiTime(c.idealMs)} of API time). The strict bound, with the last window's calls dialed at its start, is one ` +
      `window less: ${ms(c.strictBoundMs)}.`,
    '',
    table(
      [
        'repeat',
        'makespan (scaled)',
        'API time',
        '÷ ideal',
        '429s (first try)',
        'max creates in a window',
        'max child starts in a window',
        'child start → create p50 / p99 (wait in line included)',
        'peak in flight',
        'runs',
        'achieved',
        'sequential: per call',
        'sequential: projected',
        'sequential ÷ campaign',
        'load (1 min)',
      ],
      reps.map((p, i) => [
        p.finished === false ? `${i + 1} (**stopped**: not ended)` : i + 1,
        ms(p.makespanMs),
        apiTime(p.makespanMs),
        p.ratio.toFixed(3),
        `${p.status429} (${p.status429FirstTry})`,
        p.maxCreatesInWindow,
        p.maxChildStartsInWindow,
        `${ms(p.startToCreateMs.p50)} / ${ms(p.startToCreateMs.p99)}`,
        p.peakInFlight,
        p.runs,
        p.achieved,
        ms(median(p.sequential.perCallMs)),
        `${ms(p.sequential.projectedMakespanMs)} (${apiTime(p.sequential.projectedMakespanMs)})`,
        x(p.sequential.ratioToCampaign),
        p.loadAverage[0].toFixed(2),
      ]),
    ),
    '',
    `- **Makespan ÷ ideal: ${formatSpread(c.ratio, 3)}**; makespan ${formatSpread(spread(reps.map((p) => p.makespanMs / 1000)), 1, ' s')} ` +
      `(median ${apiTime(c.makespanMs.median)} of API time). Where it went (medians): approval → first create ` +
      `${ms(median(reps.map((p) => p.phases.startMs)))}, first → last create ${ms(median(reps.map((p) => p.phases.pacingMs)))}, ` +
      `last create → campaign result ${ms(median(reps.map((p) => p.phases.tailMs)))}.`,
    `- **429 responses: ${c.status429}** over ${reps.length} repeat(s) (target 0). Largest number of accepted creates in ` +
      `any ${minuteScale.windowMs} ms window at the simulator: **${c.maxCreatesInWindow}** (limit ${minuteScale.limit}).`,
    `- **Sequential loop: ${ms(median(seqPerCall))} a call** (p99 ${ms(quantile(seqPerCall, 0.99))}, i.e. ~40 s of API time: ` +
      `a 34 s call seen at the next 10 s read), so ${targets.toLocaleString('en')} targets take ` +
      `${ms(median(reps.map((p) => p.sequential.projectedMakespanMs)))} = ` +
      `${apiTime(median(reps.map((p) => p.sequential.projectedMakespanMs)))} of API time: **${formatSpread(c.sequentialRatio, 2)} × the campaign**. ` +
      `It never met the rate limit (${reps.reduce((a, p) => a + p.sequential.status429, 0)} × 429).`,
    '',
  ];
  if (chartFile) {
    lines.push(
      `![Creates per window over the campaign's life against the ceiling](${chartFile})`,
      '',
      `*Creates accepted per ${minuteScale.windowMs} ms window (one API minute) from the first create, for the repeat ` +
        'with the median ratio, with the creates the API refused (429) in the same windows, next to the sequential loop; ' +
        "the dashed line is the API's ceiling. Counted from the simulator's own record of each creation, the instants " +
        'its rate limiter counts. Rendered with vega-lite by `bench/run.ts`.*',
      '',
    );
  }
  const g = c.gate;
  if (g) {
    const rate = 1000 / (g.tasks.perCreate * g.tasks.p50Ms);
    const q = c.rpc ? c.rpc.queries / Math.max(1, c.rpc.creates) : undefined;
    // What the campaign passed while it dialed, against what the gate's own tasks would allow.
    const throughput = targets / (median(reps.map((p) => p.phases.pacingMs)) / 1000);
    const gateBound = g.tasks.busy > 0.85 || rate < 1.3 * throughput;
    const s2c = reps.map((p) => p.startToCreateMs);
    lines.push(
      `**${c.ratio.median > 1.05 ? 'What bounds the makespan here.' : 'The gate’s own rate.'}** ` +
        `The campaign passed ${throughput.toFixed(1)} creates a second while it dialed, against the ` +
        `${minuteScale.limit} this 60-fold clock allows. The key's dial gate is one workflow, handling one workflow ` +
        `task at a time: it needed **${g.tasks.perCreate.toFixed(1)} workflow tasks per create** (the signal that ` +
        'joins the line, the activity that hands the offers over by completing the waiting activities, the update ' +
        'that claims the offered slot, the signal that reports the answer, and the timers it sets for the next ' +
        `slot), each ${ms(g.tasks.p50Ms)} at the median ` +
        `from scheduled to completed on this dev server (p99 ${ms(g.tasks.p99Ms)}), which puts its own rate near ` +
        `1000 / (${g.tasks.perCreate.toFixed(1)} × ${g.tasks.p50Ms.toFixed(0)} ms) ≈ ${rate.toFixed(1)} a second, and ` +
        `one of its tasks was outstanding ${pct(g.tasks.busy * 100)} of the time` +
        (g.tasks.timedOut ? ` (${g.tasks.timedOut} of its workflow tasks timed out)` : '') +
        '. ' +
        (gateBound
          ? 'So the gate itself was near its rate: on this machine the ratio measures the gate, not the API’s ceiling.'
          : `So the gate was not saturated. What bounded the campaign was its ${maxConcurrentCalls} calls in flight ` +
            `(always full: peak ${c.peakInFlight}) against the time each holds its slot: at most ` +
            `${maxConcurrentCalls} ÷ ${throughput.toFixed(1)} a second ≈ ${ms((maxConcurrentCalls / throughput) * 1000, 1)} ` +
            `(Little's law), for a call of ${ms(minuteScale.callMs + minuteScale.pollMs)}. The rest is the child's way to its ` +
            `create: its start to its create took ${ms(median(s2c.map((v) => v.p50)))} at the median and ` +
            `${ms(median(s2c.map((v) => v.p99)))} at p99 (its guard rails and earlier-call check, the signal that joins ` +
            'the line, the hand-over of the offer, the claim just before its slot' +
            (g.lapsed ? `, and for ${g.lapsed} creates a new wait after their offer lapsed unclaimed` : '') +
            ').') +
        ' These are round trips through Temporal, which a 60-fold clock does not shorten: at the real clock the ' +
        `ceiling is ${minuteScale.limit} a minute and the same round trips are a small part of a window (an ` +
        'extrapolation: a real-time run of this size takes 1.7 hours and was not made).' +
        (q !== undefined
          ? ` The queries: ${q.toFixed(1)} a create (${c.rpc!.queries.toLocaleString('en')} in all; ` +
            `${c.rpc!.refused.toLocaleString('en')} requests were refused by the server as RESOURCE_EXHAUSTED and retried).`
          : ''),
      '',
    );
  }
  if (c.status429 > 0) {
    lines.push(
      `**The ${c.status429} refusals.** ${reps.reduce((a, p) => a + p.status429FirstTry, 0)} of them met a target's first ` +
        "create. The gate counts each window from a create's answer and holds every dialer of the key after a 429, so a " +
        "refusal here means the simulator's window and the gate's disagreed: look at the gate's history " +
        '(`agentphone-dial-gate-<fingerprint>`) for the claims around it.',
      '',
    );
  }
  return lines;
}

function capacitySection(c: CapacityResult, m: MachineInfo): string[] {
  const best = c.steps.find((s) => s.inFlight === c.capacity);
  const peakRss = Math.max(...c.steps.map((s) => s.workerMemoryMiB?.peak ?? 0));
  return [
    '## 2. In-flight capacity of one worker',
    '',
    `**Setup.** \`placeCallWorkflow\` at the contract's default timing (a read every 10 s; \`callTimeout: '30m'\` so no ` +
      "call ends during the run) to the simulator's `neverEnds` number, added in steps; each step's new calls are " +
      `spread over one poll interval, then ${c.options.settleSeconds} s to settle and ${c.options.measureSeconds} s measured. ` +
      'Poll lag = gap between two consecutive reads of a call at the simulator − 10 s (a call whose next read is overdue ' +
      "at the end of the window counts with its lag so far). Where a cycle's time goes is read from the histories of the " +
      '8 calls that lagged most in the window (the largest value of each part over their cycles). One worker ' +
      '(`createCallWorker`, default options: 100 activity ' +
      "slots, 40 workflow-task slots, a workflow cache of ~2,300 with Node's default 4 GiB heap) in its own process; the " +
      "dev server, the simulator with the client, and the whole machine measured apart from /proc. The simulator's rate " +
      "limit is lifted and the worker runs without the key's dial gate (`gate: false`), which would hold the ramp's " +
      `creates to the API's 10 a minute: this is the worker's capacity to follow calls, not the API's. The ramp stops at the first step over the limit or ` +
      `at its ${c.options.budgetSeconds} s budget (it took ${c.seconds.toFixed(0)} s).`,
    '',
    table(
      [
        'in flight',
        'lag p50',
        'lag p99',
        'lag max',
        'overdue',
        'CPU worker',
        'CPU dev server',
        'CPU sim+client',
        `machine (${m.cores} cores)`,
        'worker RSS',
        'slowest cycles of the 8 most-lagged calls: timer late / fired→scheduled / schedule→start / read / done→next timer',
        'load (1 min)',
        'p99 lag',
      ],
      c.steps.map((s) => [
        s.inFlight.toLocaleString('en'),
        ms(s.lag.p50),
        ms(s.lag.p99),
        ms(s.lag.max),
        s.lag.overdue,
        pct(s.cpu.worker),
        pct(s.cpu.server),
        pct(s.cpu.bench),
        pct(s.cpu.machine),
        s.workerMemoryMiB ? `${s.workerMemoryMiB.rss.toFixed(0)} MiB` : 'n/a',
        [
          s.cycle.timerLate,
          s.cycle.timerToSchedule,
          s.cycle.scheduleToStart,
          s.cycle.execution,
          s.cycle.completeToTimer,
        ]
          .map((v) => ms(v))
          .join(' / '),
        s.loadAverage[0].toFixed(2),
        s.ok ? 'within 1 s' : '**over**',
      ]),
    ),
    '',
    `- **Capacity: ${c.capacity.toLocaleString('en')} calls in flight** with the poll lag within ${c.options.lagLimitMs} ms at ` +
      `p99${c.failedAt ? ` (over the limit at ${c.failedAt.toLocaleString('en')})` : ' (the largest step the budget allowed; the limit lies above)'}.`,
    best && c.perThousand
      ? `- **Per 1,000 calls in flight** (scaled from ${best.inFlight.toLocaleString('en')}, the largest step within the limit): worker CPU ${pct(c.perThousand.workerCpu)} of one core, ` +
        `dev server ${pct(c.perThousand.serverCpu)}; worker memory ${c.perThousand.workerRssMiB.toFixed(0)} MiB above its idle ` +
        `${c.idleWorkerRssMiB?.toFixed(0) ?? '?'} MiB; peak worker RSS over the run ${peakRss.toFixed(0)} MiB.`
      : '- Per 1,000 calls: not measured (no step within the limit).',
    `- **Where the limit comes from:** ${c.limitedBy}.`,
    ...(c.limitedBy.startsWith('the Temporal dev server') && c.perThousand && c.perThousand.workerCpu > 0
      ? [
          `- So this figure is the local dev server's, not the worker's: at ${pct(c.perThousand.workerCpu)} of a core per ` +
            `1,000 calls, the worker alone would reach a full core near ${(Math.floor(100_000 / c.perThousand.workerCpu / 250) * 250).toLocaleString('en')} ` +
            'calls, and beyond ~2,300 its default workflow cache would start evicting and replaying. Both are ' +
            'extrapolations: measure against the cluster the workers will use (a production cluster or Temporal Cloud).',
        ]
      : []),
    '- For scale: the API admits 10 creates a minute per key, and a call lasts about 34 s (at most 5 minutes), so one ' +
      "key never has more than ~6 calls in flight (~50 if every call ran to the timeout). A worker's capacity matters for " +
      'many keys or tenants on one worker, not for one campaign.',
    '',
  ];
}

function costSection(
  c: CostResult,
  campaign: CampaignBenchResult | undefined,
  shared: SharedKeyResult | undefined,
): string[] {
  const k = c.campaign;
  const lines = [
    '## 3. Cost per call',
    '',
    "Counted from real histories with [Temporal Cloud's definition of an action](https://docs.temporal.io/cloud/actions) " +
      '(`bench/helpers/actions.ts`): a workflow start (client or continue-as-new), each activity scheduled and each retry, each ' +
      'timer (including the implicit timer of `condition` with a timeout), each search-attribute upsert, each signal and ' +
      "accepted update, all local activities of one workflow task as one, and a child workflow start as two (the parent's " +
      "intent and the child's start, so the child's own start is not counted again). Queries and activity heartbeats " +
      'never reach a history and are counted apart. A typical call lasts 60 s (queued 3 s, dialing 5 s, in progress 52 s) ' +
      'and is read every 10 s: six reads. It ran on a clock ten times faster; the counts do not depend on the clock ' +
      (c.indexed.polls === 6
        ? '(6 reads, as at real time). '
        : `(but ${c.indexed.polls} reads here, not 6: under this load a poll timer fired late enough to leave a read ` +
          'out; the before-and-after comparison below discounts the reads). ') +
      `${c.indexedRepeats} runs of the first row gave ` +
      `${c.indexedRepeatsIdentical ? 'identical counts' : 'different counts (the first is shown): the clock was too fast for this load'}.`,
    '',
    table(
      ['60 s call', 'actions', 'history events', 'actions by kind'],
      [
        [
          "`placeCallWorkflow`, namespace with the package's search attributes (**default** after `npm run setup:temporal`)",
          c.indexed.total,
          c.indexed.events,
          describeKinds(c.indexed.byKind),
        ],
        [
          '`placeCallWorkflow`, namespace without them',
          c.unindexed.total,
          c.unindexed.events,
          describeKinds(c.unindexed.byKind),
        ],
        [
          'variant: status reads as local activities (`bench/variants/local-poll-workflow.ts`, no search attributes)',
          c.localReads.total,
          c.localReads.events,
          describeKinds(c.localReads.byKind),
        ],
        [
          `one target of a ${k.targets}-target campaign (child call + its start in the parent)`,
          k.perTargetActions.toFixed(0),
          `~${k.perTargetEvents.toFixed(0)}`,
          `2 child workflow start, ${describeKinds(k.child.byKind, 1)}`,
        ],
        [
          `campaign overhead (${k.targets} targets, one pacing window)`,
          k.overheadActions,
          `~${k.overheadEvents}`,
          describeKinds(withoutChildStarts(k.parent.byKind, k.targets)),
        ],
        ...(c.before
          ? [
              [
                `before the gate (commit ${c.before.commit}): \`placeCallWorkflow\`, with search attributes (${c.before.indexed.polls} reads)`,
                c.before.indexed.total,
                c.before.indexed.events,
                describeKinds(c.before.indexed.byKind),
              ],
              [
                `before the gate: one target of a ${c.before.campaign.targets}-target campaign`,
                c.before.campaign.perTargetActions.toFixed(0),
                `~${c.before.campaign.perTargetEvents.toFixed(0)}`,
                `2 child workflow start, ${describeKinds(c.before.campaign.child.byKind, 1)}`,
              ],
              [
                'before the gate: campaign overhead',
                c.before.campaign.overheadActions,
                `~${c.before.campaign.overheadEvents}`,
                describeKinds(withoutChildStarts(c.before.campaign.parent.byKind, c.before.campaign.targets)),
              ],
            ]
          : []),
        ...(c.gate
          ? [
              [
                `the key's dial gate, per create (its own history, ${c.gate.claims} creates, ${c.gate.runs} run(s))`,
                c.gate.perCreate.total.toFixed(1),
                c.gate.perCreate.events.toFixed(1),
                describeKinds(c.gate.perCreate.byKind, 2),
              ],
            ]
          : []),
      ],
    ),
    '',
  ];
  lines.push(...gateCostLines(c, campaign, shared));
  if (campaign?.cost) {
    const at = campaign.cost;
    const n = campaign.options.targets;
    lines.push(
      `**At scale** (the ${n.toLocaleString('en')}-target campaign of benchmark 1, first repeat): the campaign's own histories hold ` +
        `${at.campaign.total.toLocaleString('en')} actions and ${at.campaign.events.toLocaleString('en')} events over ${at.runs} run(s) ` +
        `(continue-as-new keeps each history bounded): ${(2 * at.childStarts).toLocaleString('en')} for the ${at.childStarts.toLocaleString('en')} child starts ` +
        (at.childStarts > n
          ? `(${(at.childStarts - n).toLocaleString('en')} more than targets: children refused twice with 429 end ` +
            'RateLimited and the campaign dials their targets again under a new id) '
          : '') +
        `and **${at.overheadActions} of overhead** (${describeKinds(withoutChildStarts(at.campaign.byKind, at.childStarts))}), ` +
        `${(at.overheadActions / n).toFixed(2)} per target: with the gate the campaign no longer paces itself, so it ` +
        `sets ${at.campaign.byKind.timer ?? 0} timer(s) of its own where its pacer set about four a window (the gate's ` +
        'share of the cost is counted above, per create). ' +
        `(Its calls, at 34 s of API time read 4 times at ` +
        `most, cost ${at.child.total.toFixed(1)} actions each in a sample of ${at.childSample}; under this scaled clock and ` +
        'load fewer reads fit in a call, so the 60 s figures above are the ones to use.)',
      '',
    );
  }
  lines.push(
    '**Which design the package uses, and why.** Status reads are regular activities. Against local activities they ' +
      `cost the same number of actions (${c.unindexed.total} vs ${c.localReads.total}): each read follows its own 10 s timer, ` +
      'so each local read lands in a workflow task of its own and is billed as one action, exactly like an activity. ' +
      `Local reads would save ${c.unindexed.events - c.localReads.events} history events per call ` +
      `(${c.localReads.events} instead of ${c.unindexed.events}), i.e. history storage only. The package keeps regular ` +
      "activities because a read can take up to the HTTP client's 15 s timeout and is retried with backoff up to 20 s " +
      '(a local activity doing that holds the workflow task open and needs workflow-task heartbeats, each billed as an ' +
      'action), because every read and retry is visible in the Web UI with its summary (`poll 3`), and because a read ' +
      'is then scheduled on any worker of the queue rather than on the one holding the workflow.',
    '',
    `- **Search attributes** cost ${c.indexed.byKind['search attribute upsert'] ?? 0} actions here: one per ` +
      'status change the reads see (queued at the create, in progress at the first read, completed at the last) and one ' +
      'for the outcome. They are ' +
      'what makes calls filterable by status, outcome and failure type in the Web UI; a namespace without them costs ' +
      'fewer actions and loses the filters.',
    "- **Watching costs more than calling.** Each query is an action. `waitForCall` with `onState` (the starter's live " +
      'status, `npm run demo`) queries once a second by default (`watchIntervalMs: 1000`): about 60–70 actions for a ' +
      'watched 60 s call, more than three times the call itself. Services that only need the result should call ' +
      '`waitForCall` without `onState` (a long poll, no action), or watch with a longer `watchIntervalMs`. (Counted from ' +
      'the code, not measured: queries leave no trace in a history.)',
    '- **Not chosen: one long activity that polls inside** and heartbeats: one activity plus its heartbeats that reach ' +
      'the server (throttled to 80% of the heartbeat timeout), e.g. ~4 actions instead of 12 for the reads of a 60 s call ' +
      'with a 30 s heartbeat timeout, but no durable step per read, no per-read retries or summaries in the UI, and the ' +
      "contract's 429 rule inside an activity. (Counted from the definition, not measured.)",
    '',
  );
  return lines;
}

function withoutChildStarts(byKind: Record<string, number>, children: number): Record<string, number> {
  const out = { ...byKind };
  const key = 'child workflow start (×2)';
  out[key] = (out[key] ?? 0) - 2 * children;
  if (!out[key]) delete out[key];
  return out;
}

function latencySection(l: LatencyResult): string[] {
  const r = (name: string, v: number[]) => [
    name,
    ms(median(v)),
    ms(mean(v)),
    ms(quantile(v, 0.99)),
    ms(Math.max(...v)),
  ];
  return [
    '## 4. Reaction latency',
    '',
    `**Setup.** ${l.calls} calls at once at the contract's real timing (no \`timing\` override: a read every 10 s), each ` +
      'on a simulator of its own whose call lasts 34 s plus (i + ½)/n × 10 s, so that the ends fall evenly over the ' +
      "poll cycle as real calls' would; one in-process worker (without the dial gate: each call has a simulator, so a " +
      'key, of its own) reaches them through a client that routes each call to ' +
      "its simulator. Reaction = from the end of the call at the simulator to the workflow's close (its history's close " +
      'time); detection = to the first read that saw it (the polling part); processing = from that read to the close.',
    '',
    table(
      ['', 'median', 'mean', 'p99', 'max'],
      [
        r('**reaction** (end → workflow closed)', l.reactionMs),
        r('detection (end → first read that saw it)', l.detectionMs),
        r('processing (that read → workflow closed)', l.processingMs),
        r('client (end → `result()` resolved)', l.clientMs),
      ],
    ),
    '',
    `The bound the polling interval sets: detection is uniform over one interval, so a mean of ${ms(l.pollIntervalMs / 2)} ` +
      `and at most ${ms(l.pollIntervalMs)} (slightly more as each cycle is 10 s plus the time a read takes); the package ` +
      `adds its processing on top. With ${l.calls} samples the p99 is close to the maximum. The figures are real time ` +
      'and API time alike: nothing was scaled.',
    '',
  ];
}

function caveats(): string[] {
  return [
    '## Method notes and what is not verified',
    '',
    '- One run on a shared, loaded machine (see the load averages above): re-measure on a quiet machine before quoting ' +
      'latencies or the capacity figure. Action and event counts do not depend on load.',
    '- The simulator stands in for the API: its latency is a local HTTP round trip, so real reads take longer and the ' +
      "real API's rate limiting may differ in detail from a sliding window.",
    "- Action counts follow the published definition applied to histories, as Temporal Cloud's own history estimate " +
      'does; they were not checked against a Temporal Cloud bill. A child start is counted as two actions at the parent, ' +
      "and the child's own start event not again.",
    '- The dev server is not a production cluster: benchmark 2 measures one worker against it on the same machine, so ' +
      "the server's CPU competes with the worker's.",
    "- The sequential loop's makespan for the whole list is projected from the targets it ran beside each campaign " +
      'repeat (see benchmark 1).',
    "- The 60-fold clock shortens the API's window, not the round trips a create makes through Temporal. With the " +
      'dial gate each create is a few workflow messages (join, hand-over, claim, answer), so ' +
      'benchmarks 1 and 5 ask of the gate and of each call 60 times the pace real traffic would: their makespan ratios ' +
      "with the gate measure those round trips on this machine, not the API's ceiling, and were not checked at real " +
      'time.',
    '',
  ];
}

function sharedSection(r: SharedKeyResult): string[] {
  const { before, after, options } = r;
  const sides = [before, after].filter((s): s is SharedKeySide => s !== undefined);
  const cell = (f: (s: SharedKeySide) => string | number) => sides.map(f);
  const api = (scaledMs: number) => apiTime(scaledMs);
  const q = (v: { p50: number; p99: number } | undefined) => (v ? `${ms(v.p50)} / ${ms(v.p99)}` : '—');
  const failed = (s: SharedKeySide) =>
    Object.entries(s.singles.failedByType)
      .map(([t, n]) => `${n} ${t}`)
      .join(', ') || 'none';
  const campaignFailed = (s: SharedKeySide) =>
    s.campaigns
      .map((c) =>
        Object.entries(c.failedByType)
          .map(([t, n]) => `${n} ${t}`)
          .join(', '),
      )
      .filter(Boolean)
      .join('; ') || 'none';
  const lines = [
    '## 5. One API key: two campaigns and single calls',
    '',
    `**Setup.** On one API key, two campaigns of ${options.targetsPerCampaign} targets each are approved at the same ` +
      `moment (two \`approveCampaign\` updates sent together), and a backend starts one single call every ` +
      `${ms(options.singleEveryMs)} (${api(options.singleEveryMs)} of API time) from that moment until both campaigns ` +
      "have ended. Benchmark 1's clock: one API minute lasts one second, the simulator's window is 10 creates per " +
      `${minuteScale.windowMs} ms, the workers get \`rateLimit: { count: ${minuteScale.limit}, windowMs: ${minuteScale.windowMs} }\` ` +
      `(AGENTPHONE_RATE_LIMIT=10/1s), the campaigns \`callsPerMinute: ${minuteScale.limit}\` and ` +
      `\`maxConcurrentCalls: ${options.maxConcurrentCalls}\` (the default). Two workers hold the key, each on a task queue ` +
      "of its own: the campaigns' in the benchmark's process, the backend's in a process of its own " +
      '(`bench/shared-key-worker.ts`), as two services would. Each side has its own dev server and simulator and ' +
      `stops after ${Math.round(300 / 60)} minutes whatever happened. The single-call period is one API minute, not the ` +
      "issue's 10 s: at this 60-fold clock 10 s would be six single calls a second, more than the gate passes on this " +
      'machine (benchmark 1 measures its rate); its line would only grow, and the run would measure that instead.',
    '',
    `- **After**: this package: every create passes the key's dial gate; the campaigns' timing is benchmark 1's, ` +
      'without `rateMargin`.',
    ...(before
      ? [
          `- **Before**: the package at commit ${r.beforeCommit} (unpacked with \`git archive\` and loaded by ` +
            '`bench/helpers/before.ts`: its own `createCallWorker`, workflows and `startCall`), same load and clock: ' +
            'each campaign paces itself with its own pacer, with the `timing.rateMargin` its benchmark documented at ' +
            `this scale (\`'${minuteScale.beforeRateMargin}'\`, not its 2% default, which would be 20 ms here), and single ` +
            'calls are not paced at all.',
        ]
      : []),
    '',
    `**Ideal** = ⌈calls created ÷ ${minuteScale.limit}⌉ windows + one call (${ms(minuteScale.callMs)}); makespan = from the ` +
      "approvals to the last campaign's or single call's result. Counted at the simulator (every create request, " +
      'refused or not, with its arrival time) and from the calls’ results.',
    '',
    table(
      [
        '',
        ...sides.map((s) => (s.side === 'after' ? '**after** (dial gate)' : `before (${r.beforeCommit})`)),
        'target',
      ],
      [
        ['ended within the time limit', ...cell((s) => (s.finished ? 'yes' : '**no**')), ''],
        [
          'calls created: campaign A + B, single calls',
          ...cell((s) => `${s.creates.campaigns.join(' + ')}, ${s.creates.singles}`),
          '',
        ],
        ['create requests at the simulator', ...cell((s) => s.attempts), ''],
        ['**429 responses**', ...cell((s) => `**${s.status429}**`), '0'],
        [
          `**most create requests in any ${minuteScale.windowMs} ms window**`,
          ...cell((s) => `**${s.maxAttemptsInWindow}**`),
          `≤ ${minuteScale.limit}`,
        ],
        [
          `most calls created in any ${minuteScale.windowMs} ms window`,
          ...cell((s) => s.maxCreatesInWindow),
          `≤ ${minuteScale.limit}`,
        ],
        ['single calls started / achieved', ...cell((s) => `${s.singles.started} / ${s.singles.achieved}`), ''],
        ['**single calls failed** (by type)', ...cell((s) => `**${failed(s)}**`), 'none RateLimited'],
        ...(sides.some((s) => s.singles.unfinished)
          ? [['single calls not ended at the time limit', ...cell((s) => s.singles.unfinished), '']]
          : []),
        [
          '**single call: wait for its slot** p50 / p99 (the gate’s `waitedForSlotMs`)',
          ...cell((s) => (s.singles.waitedForSlotMs ? `**${q(s.singles.waitedForSlotMs)}**` : 'no gate')),
          `p99 ≤ ${ms(minuteScale.windowMs)}`,
        ],
        ['single call: its start → its call created, p50 / p99', ...cell((s) => q(s.singles.startToCreateMs)), ''],
        [
          '**campaign A / B share** of their creates while both dialed',
          ...cell(
            (s) =>
              `**${(s.whileBoth.share[0] * 100).toFixed(0)}% / ${(s.whileBoth.share[1] * 100).toFixed(0)}%** ` +
              `(${s.whileBoth.campaigns.join(' / ')} in ${ms(s.whileBoth.ms)}, beside ${s.whileBoth.singles} single calls)`,
          ),
          '50% / 50%',
        ],
        [
          'campaigns ended after (approval →)',
          ...cell((s) => s.campaigns.map((c) => (c.endMs === undefined ? 'not ended' : ms(c.endMs))).join(' and ')),
          '',
        ],
        ['campaign targets failed', ...cell(campaignFailed), ''],
        [
          `campaign calls in flight (mean, of ${options.maxConcurrentCalls}); how long each held its slot`,
          ...cell((s) => s.inFlight.map((f) => `${f.mean.toFixed(1)}; ${ms(f.holdMs)}`).join(' and ')),
          '',
        ],
        ['makespan (scaled; API time)', ...cell((s) => `${ms(s.makespanMs)}; ${api(s.makespanMs)}`), ''],
        [
          'ideal',
          ...cell((s) => `${ms(s.idealMs)} (⌈${s.creates.total}/${minuteScale.limit}⌉ windows + one call)`),
          '',
        ],
        ['**makespan ÷ ideal**', ...cell((s) => `**${s.ratio.toFixed(3)}**`), '≤ 1.05'],
        [
          'messages the workers sent to Temporal: queries / signals / updates',
          ...cell(
            (s) =>
              `${s.rpc.queries.toLocaleString('en')} / ${s.rpc.signals.toLocaleString('en')} / ${s.rpc.updates.toLocaleString('en')}`,
          ),
          '',
        ],
        [
          'requests refused by the server as RESOURCE_EXHAUSTED',
          ...cell((s) => s.rpc.refused.toLocaleString('en')),
          '',
        ],
        [
          "the gate's workflow: tasks per create, p50 / p99 each, share of the time busy",
          ...cell((s) =>
            s.gate
              ? `${s.gate.tasks.perCreate.toFixed(1)}, ${ms(s.gate.tasks.p50Ms)} / ${ms(s.gate.tasks.p99Ms)}, ${pct(s.gate.tasks.busy * 100)}` +
                (s.gate.tasks.timedOut ? ` (${s.gate.tasks.timedOut} timed out)` : '') +
                `; ${s.gate.lapsed} claims lapsed`
              : '—',
          ),
          '',
        ],
        [
          'load average (1 min) at start → end',
          ...cell((s) => `${s.load.start[0].toFixed(2)} → ${s.load.end[0].toFixed(2)}`),
          '',
        ],
      ],
    ),
    '',
  ];
  for (const [side, error] of Object.entries(r.errors))
    lines.push(`**The ${side} side did not complete:** \`${error}\``, '');
  if (after) {
    const missed: string[] = [];
    if (after.status429 > 0) missed.push(`${after.status429} × 429`);
    if (after.maxAttemptsInWindow > minuteScale.limit) missed.push(`${after.maxAttemptsInWindow} requests in a window`);
    if ((after.singles.failedByType.RateLimited ?? 0) > 0) missed.push('single calls failed RateLimited');
    if ((after.singles.waitedForSlotMs?.p99 ?? 0) > minuteScale.windowMs)
      missed.push('single calls waited over a window at p99');
    if (after.singles.startToCreateMs.p99 > minuteScale.windowMs)
      missed.push(
        `single calls took ${ms(after.singles.startToCreateMs.p99)} at p99 from their start to their call, though the ` +
          "gate's own wait met its target: the rest went to the call's start and first tasks on a loaded worker, and to " +
          'any new wait after an offer lapsed unclaimed (createCall joins the line again, which `waitedForSlotMs` does ' +
          `not count: ${after.gate?.lapsed ?? '?'} claims lapsed)`,
      );
    if (after.ratio > 1.05) missed.push(`makespan ${after.ratio.toFixed(2)} × ideal`);
    lines.push(
      `**Reading it.** ${missed.length ? `Missed: ${missed.join('; ')}.` : 'Every target met.'} ` +
        (before
          ? `Before the gate, each campaign kept to its own ${minuteScale.limit} a window and could not see the other ` +
            `or the single calls: ${before.maxAttemptsInWindow} requests reached one window and ${before.status429} ` +
            'were refused; a refused call waits the contract’s minute and tries once more, and a single call refused ' +
            'twice fails RateLimited. '
          : '') +
        (before && before.ratio < after.ratio
          ? `It finished sooner (${before.ratio.toFixed(2)} × its ideal against ${after.ratio.toFixed(2)} ×): nothing ` +
            "stood between a child's start and its create, so each call held its slot " +
            `${before.inFlight.map((f) => ms(f.holdMs)).join(' and ')}, and it paid with those refusals` +
            ((before.singles.failedByType.RateLimited ?? 0) > 0
              ? ` and ${before.singles.failedByType.RateLimited} single call(s) failed RateLimited`
              : '') +
            '. '
          : '') +
        `With the gate, the key's creates are counted in one place: ${after.status429} refusals and at most ` +
        `${after.maxAttemptsInWindow} requests in any window; single calls go first in its line, and the campaigns ` +
        'take turns by fair share within their own `callsPerMinute`.' +
        (after.ratio > 1.05 ? ` ${slowdown(after, options.maxConcurrentCalls)}` : ''),
      '',
    );
  }
  return lines;
}

/** Why a gated side took longer than the ideal, from what it measured: the campaigns' slots, or the gate itself. */
function slowdown(s: SharedKeySide, maxConcurrentCalls: number): string {
  const g = s.gate;
  const full = s.inFlight.every((f) => f.mean >= 0.85 * maxConcurrentCalls);
  const hold = s.inFlight.map((f) => ms(f.holdMs)).join(' and ');
  const gateRate = g ? 1000 / (g.tasks.perCreate * g.tasks.p50Ms) : Number.NaN;
  const parts: string[] = [];
  if (full)
    parts.push(
      `The campaigns kept their ${maxConcurrentCalls} calls in flight nearly all the time, and each call held its slot ` +
        `${hold} (Little's law: calls in flight ÷ creates a second), against ${ms(minuteScale.callMs + minuteScale.pollMs)} ` +
        "for the call and its last read: the rest is the child's start, its guard rails and earlier-call check, the " +
        "gate's line and the claim, each a round trip through this loaded dev server, and the server's timers: in a " +
        'separate trace of this setup (not part of this run) a 167 ms poll timer fired about 1 s after it was set, so ' +
        'a call is seen completed about a second after its create, not 734 ms.',
    );
  if (g)
    parts.push(
      `The gate itself needed ${g.tasks.perCreate.toFixed(1)} workflow tasks per create at ${ms(g.tasks.p50Ms)} each ` +
        `(p99 ${ms(g.tasks.p99Ms)}), one at a time, and was busy ${pct(g.tasks.busy * 100)} of the time: at most ` +
        `~${gateRate.toFixed(1)} creates a second, ${gateRate < minuteScale.limit ? 'under' : 'over'} the ${minuteScale.limit} ` +
        `this clock asks; ${(s.rpc.queries / Math.max(1, s.creates.total)).toFixed(1)} queries a create reached the server ` +
        '(the gate hands offers over itself: queries come only from a create whose offer lapsed, or was given to a ' +
        `single call, and looks for the next; ${s.rpc.refused.toLocaleString('en')} requests refused as RESOURCE_EXHAUSTED).`,
    );
  parts.push(
    'Neither is the API’s ceiling, which the 60-fold clock asks the gate to fill ten times a second; at the real ' +
      'clock (10 a minute) both would have the headroom (not measured: a real-time run of this size takes hours).',
  );
  return parts.join(' ');
}

/** What the dial gate adds to a create, in the call's own history, in the gate's, and in queries no history shows. */
function gateCostLines(
  c: CostResult,
  campaign: CampaignBenchResult | undefined,
  shared: SharedKeyResult | undefined,
): string[] {
  const lines: string[] = [];
  if (c.before) {
    // Each read is a timer and an activity: compare what is left, so that a read more or less under load does not count.
    const fixed = (k: CallCost) => {
      const out = { ...k.byKind };
      out.timer = (out.timer ?? 0) - k.polls;
      out.activity = (out.activity ?? 0) - k.polls;
      return out;
    };
    const a = fixed(c.indexed);
    const b = fixed(c.before.indexed);
    const diff = Object.fromEntries(
      [...new Set([...Object.keys(a), ...Object.keys(b)])]
        .map((kind) => [kind, (a[kind] ?? 0) - (b[kind] ?? 0)] as const)
        .filter(([, v]) => v !== 0),
    );
    const signed = Object.entries(diff)
      .map(([kind, v]) => `${v > 0 ? '+' : ''}${v} ${kind}`)
      .join(', ');
    lines.push(
      `**Before and after, per call.** Besides its reads (a timer and an activity each: ${c.indexed.polls} here, ` +
        `${c.before.indexed.polls} before), the call costs ${c.indexed.total - 2 * c.indexed.polls} actions now and ` +
        `${c.before.indexed.total - 2 * c.before.indexed.polls} at commit ${c.before.commit}: ${signed || 'the same'}. ` +
        "The gate's part of that is one activity, `waitForDialSlot` (the wait in the key's line); the rest comes from " +
        'other changes since that commit. A campaign ' +
        `target costs ${c.campaign.perTargetActions.toFixed(1)} actions now against ${c.before.campaign.perTargetActions.toFixed(1)}, ` +
        `with ${c.campaign.overheadActions} against ${c.before.campaign.overheadActions} for the campaign itself.`,
      '',
    );
  }
  const rows: (string | number)[][] = [];
  const row = (name: string, g: GateCost, queries: number | undefined, creates: number) =>
    rows.push([
      name,
      g.claims.toLocaleString('en'),
      g.runs,
      g.perCreate.total.toFixed(2),
      g.perCreate.events.toFixed(1),
      describeKinds(g.perCreate.byKind, 2),
      queries === undefined ? 'n/a' : (queries / Math.max(1, creates)).toFixed(1),
      g.tasks.perCreate.toFixed(1),
    ]);
  if (c.gate)
    row('this section (a 6 s window, 14 creates)', c.gate, c.gateMessages?.queries, c.gateMessages?.creates ?? 0);
  if (campaign?.gate)
    row(
      'benchmark 1 (all repeats)',
      campaign.gate,
      campaign.rpc?.queries,
      campaign.rpc?.creates ?? campaign.gate.claims,
    );
  if (shared?.after?.gate)
    row('benchmark 5, with the gate', shared.after.gate, shared.after.rpc.queries, shared.after.creates.total);
  if (rows.length === 0) return lines;
  lines.push(
    "**What the gate costs.** Every create passes the key's gate workflow (`agentphone-dial-gate-<fingerprint>`): a " +
      'signal that joins its line, an update that claims the offered slot right before the create, a signal when the ' +
      "answer came back, and the timers it sets for the next slot; all of that is in the gate's own history, counted " +
      'below per create over every run of it (it continues as new to stay bounded). While a create waits, its ' +
      'activity looks for its offer by query every 250 ms: queries are Temporal Cloud actions too but reach no history, ' +
      "so they are counted from the dev server's request metrics (less the benchmark's own queries).",
    '',
    table(
      [
        'measured in',
        'creates',
        'gate runs',
        "gate's actions per create",
        "gate's events per create",
        'actions by kind, per create',
        'queries per create',
        'gate workflow tasks per create',
      ],
      rows,
    ),
    '',
    "- So a create costs, besides the call itself: one `waitForDialSlot` activity in the call, the gate's actions " +
      'above, and the queries; the queries grow with the time a create waits in line, so they are the part that ' +
      "depends on load: a campaign's calls wait longest, since single calls go first.",
    '',
  );
  return lines;
}

/** Benchmark 6's four variants, and what the document says of them. */
function targetFigures(r: TargetsBenchResult) {
  const find = (side: TargetsVariant['side'], phase: TargetsVariant['phase']) =>
    r.variants.find((v) => v.side === side && v.phase === phase);
  const [beforeInspect, afterInspect, beforePages, afterPages] = [
    find('before', 'inspect'),
    find('after', 'inspect'),
    find('before', 'pages'),
    find('after', 'pages'),
  ];
  if (!beforeInspect || !afterInspect || !beforePages || !afterPages) return undefined;
  // What the worker holds on to for the list: the heap still in use after a full GC, above the same at the start.
  const kept = (v: TargetsVariant) => v.heapMiB.retained - v.heapMiB.start;
  const keptMiB = kept(afterPages) - kept(beforePages);
  return {
    rows: r.file.rows,
    pagesInList: afterPages.pagesInList,
    before: { inspect: beforeInspect, pages: beforePages },
    after: { inspect: afterInspect, pages: afterPages },
    kept,
    keptMiB,
    pagesSpeedup: beforePages.allPagesMs / afterPages.allPagesMs,
  };
}

function targetsSection(r: TargetsBenchResult): string[] {
  const t = targetFigures(r);
  if (!t) return ['## 6. A 100,000-row CSV list at the worker', '', '**Not all four variants completed.**', ''];
  const { rows, pagesInList } = t;
  const later = (v: TargetsVariant) => v.pageMs.slice(1);
  const perPage = (v: TargetsVariant) =>
    `${fineMs(v.pageMs[0] ?? Number.NaN)} / ${fineMs(median(later(v)))} / ${fineMs(quantile(later(v), 0.99))} / ` +
    `${fineMs(Math.max(...later(v)))}`;
  const variantRow = (name: string, v: TargetsVariant, passes: string) => [
    name,
    v.phase === 'inspect'
      ? ms(v.ms)
      : v.pages < v.pagesInList
        ? `${long(v.allPagesMs)} (projected from ${v.pages} pages: ${ms(v.ms)})`
        : ms(v.allPagesMs),
    v.phase === 'inspect' ? '—' : perPage(v),
    passes,
    `${v.rssMiB.peak.toFixed(0)} MiB (${v.rssMiB.start.toFixed(0)} MiB)`,
    `${v.heapMiB.peakUsed.toFixed(0)} / ${v.heapMiB.peakCommitted.toFixed(0)} MiB`,
    `${t.kept(v).toFixed(1)} MiB`,
  ];
  const settled = t.after.pages.fileAgeMs > 2_000;
  const perTarget = (t.keptMiB * 1024 * 1024) / rows;
  return [
    `## 6. A ${rows.toLocaleString('en')}-row CSV list at the worker`,
    '',
    `**Setup.** A CSV file of ${rows.toLocaleString('en')} rows (${(r.file.bytes / 1024 / 1024).toFixed(1)} MiB; ` +
      '`to_phone_number,objective,business_name`, distinct valid numbers from the benchmarks’ `benchTargets`, so every ' +
      'row is a valid target), written once. The campaign activities are called in-process, as the worker calls them: ' +
      "`createCampaignActivities` with the deps `createCallWorker` gives it (the package's search attributes, the " +
      "contract's ceiling, the key's dial gate). Each variant runs in a node process of its own " +
      '(`bench/targets.ts --child`), one after the other, so that its time and its peaks are its own. **Validating**: ' +
      `one \`inspectCampaignTargets\`. **Paging**: every \`loadCampaignTargets\` page of 200 (${pagesInList} pages) in ` +
      "order, one after the other as the campaign's loop asks for them, on a worker that has not inspected the file (a " +
      'worker restarted since, or another one): its first page reads the file.',
    '',
    `- **Before**: the package at commit ${r.beforeCommit} (its \`src/\` unpacked with \`git archive\`, this ` +
      '`node_modules` linked), where every page reads, hashes and validates the whole file again. Each of its pages is ' +
      `then the same full pass wherever it starts, so ${t.before.pages.pages} pages spread over the list ran, and its ` +
      'total is projected as the first page (which pays for the JIT’s warm-up) plus the mean of the others for each ' +
      `page left (\`BENCH_TARGETS_BEFORE_PAGES=${pagesInList}\` runs them all: ` +
      `${(t.before.pages.allPagesMs / 3_600_000).toFixed(1)} hours here).`,
    '- **After**: this package. The worker keeps the valid targets of the last two files it read, by the sha256 the ' +
      'campaign approved; a page proves the file unchanged by its identity (device, inode, size, mtime, ctime), and ' +
      'by hashing it again when that identity differs or the file had changed within 2 s of its read ' +
      `(\`ValidatedTargetsCache\` in \`src/domain/targets.ts\`). Here the file was last changed ` +
      `${ms(t.after.pages.fileAgeMs, 1)} before the first page, so ` +
      (settled ? 'no page after the first read or hashed it.' : 'the first pages hashed it again.'),
    '',
    '**Memory.** Peak RSS is the process’s own high-water mark (VmHWM), beside its RSS once its modules were loaded. ' +
      'The heap is V8’s, sampled every 10 ms and after each call: a peak inside the validation, which runs for seconds ' +
      'without yielding, can fall between samples, so RSS is the figure to trust. “Kept” is the heap still in use after ' +
      'a full GC at the end, less the same at the start: what the process holds on to.',
    '',
    table(
      [
        'variant',
        'time',
        'per page: first / then p50 / p99 / max',
        'full passes over the file',
        'peak RSS (at start)',
        'heap: peak used / committed',
        'heap kept',
      ],
      [
        variantRow(`validating, before (${r.beforeCommit})`, t.before.inspect, '1'),
        variantRow('validating, **after**', t.after.inspect, '1'),
        variantRow(`paging, before (${r.beforeCommit})`, t.before.pages, `${pagesInList} (one a page)`),
        variantRow('paging, **after**', t.after.pages, '1 (the first page)'),
      ],
    ),
    '',
    `- **Paging through all of it: ${long(t.after.pages.allPagesMs)} against ${long(t.before.pages.allPagesMs)}, ` +
      `${t.pagesSpeedup.toFixed(0)}× less.** The first page reads the file as a page always did ` +
      `(${ms(t.after.pages.pageMs[0] ?? Number.NaN)}); each of the other ${pagesInList - 1} is a stat of the file and ` +
      `a slice (${fineMs(median(later(t.after.pages)))} at the median). Before, every page cost a whole validation ` +
      `(${ms(median(later(t.before.pages)))} at the median).`,
    `- **Validating** is the same full pass on both sides (${ms(t.before.inspect.ms)} before, ` +
      `${ms(t.after.inspect.ms)} after; the code is the same, the difference is the machine's load): the inspection ` +
      'must read the whole file. After it, the worker keeps the ' +
      `list's valid targets: **${t.keptMiB.toFixed(1)} MiB of heap** for ${rows.toLocaleString('en')} targets ` +
      `(${perTarget.toFixed(0)} bytes each), at most two lists at a time.`,
    `- **Peak RSS while paging: ${t.after.pages.rssMiB.peak.toFixed(0)} MiB after, ` +
      `${t.before.pages.rssMiB.peak.toFixed(0)} MiB before**: one read of the file at a time either way; after it, ` +
      'the list stays in memory instead of being rebuilt and dropped at every page.',
    `- Load average (1 min): ${r.load.start[0].toFixed(2)} at the start of this section, ` +
      `${r.load.end[0].toFixed(2)} at its end. The times are pessimistic here; the passes over the file are not.`,
    '',
  ];
}
