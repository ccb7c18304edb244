/**
 * Renders docs/reliability.md from the figures the fault-injection suite (test/faults/*.test.ts) measured and wrote
 * under test-results/faults/<size>/ (`large`: npm run test:faults, `ci`: the same files inside npm test), and prints
 * the summary tables. Run by `npm run test:faults` after the suite.
 *
 *   tsx scripts/faults-report.ts [--in test-results/faults] [--out docs/reliability.md]
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Figures } from '../test/faults/support/figures';

const root = resolve(__dirname, '..');
const { values } = parseArgs({
  options: {
    in: { type: 'string', default: join(root, 'test-results', 'faults') },
    out: { type: 'string', default: join(root, 'docs', 'reliability.md') },
  },
});
const inDir = resolve(values.in);
const outFile = resolve(values.out);

const order: Figures['suite'][] = [
  'crashes',
  'two-workers',
  'api-faults',
  'bad-input',
  'hostile',
  'shared-key',
  'shared-key-no-dedup',
];
const short: Record<Figures['suite'], string> = {
  crashes: 'Crashes',
  'two-workers': 'Two workers',
  'api-faults': 'API faults',
  'bad-input': 'Bad input',
  hostile: 'Hostile',
  'shared-key': 'Shared key',
  'shared-key-no-dedup': 'Shared key, no dedup',
};

const sizes: Figures['size'][] = ['large', 'ci'];
const sizeTitle: Record<Figures['size'], string> = {
  large: 'Large run (`npm run test:faults`, FAULTS_SIZE=large)',
  ci: 'CI size (the same files inside `npm test`)',
};

/** The figures of one size, in the suite's order; empty when that size has not been run. */
function load(size: Figures['size']): Figures[] {
  const dir = join(inDir, size);
  if (!existsSync(dir)) return [];
  const all = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Figures);
  return order.flatMap((suite) => all.filter((f) => f.suite === suite));
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const total = (r: Record<string, number>) => sum(Object.values(r));
const mark = (n: number) => (n === 0 ? '0 ✓' : `**${n} ✗**`);

function summaryTable(figures: Figures[]): string {
  const head = ['', ...figures.map((f) => short[f.suite]), 'All'];
  const row = (label: string, cell: (f: Figures) => number, format: (n: number) => string = String) => [
    label,
    ...figures.map((f) => format(cell(f))),
    format(sum(figures.map(cell))),
  ];
  const rows = [
    row('faults injected', (f) => total(f.faultsInjected)),
    row('worker kills survived (SIGKILL)', (f) => f.kills.worker),
    row('… with a create in flight', (f) => f.kills.workerWithCreateInFlight),
    row('server kills survived (SIGKILL)', (f) => f.kills.server),
    row('targets / inputs requested', (f) => f.targets.requested),
    row('concluded (exactly once)', (f) => f.targets.concluded),
    row('duplicates (dialed twice)', (f) => f.targets.duplicates, mark),
    row('lost (no or wrong conclusion)', (f) => f.targets.lost, mark),
    row('stuck (open workflows)', (f) => f.targets.stuck, mark),
    row('API key found', (f) => f.secretFoundIn.length, mark),
  ];
  // The rows only some suites measure, in the order they first appear; '—' where a suite does not measure it.
  const labels = [...new Set(figures.flatMap((f) => Object.keys(f.rows ?? {})))];
  for (const label of labels) {
    const zero = figures.some((f) => f.rows?.[label]?.mustBeZero);
    const cell = (f: Figures) => {
      const r = f.rows?.[label];
      return r === undefined ? '—' : zero ? mark(r.value) : String(r.value);
    };
    const measured = figures.map((f) => f.rows?.[label]?.value).filter((v): v is number => v !== undefined);
    const all = figures.some((f) => f.rows?.[label]?.max) ? Math.max(...measured) : sum(measured);
    rows.push([label, ...figures.map(cell), zero ? mark(all) : String(all)]);
  }
  return table(head, rows);
}

/** A Markdown table; `numeric` columns are right-aligned (by default every column but the first). */
function table(head: string[], rows: string[][], numeric = (i: number) => i > 0): string {
  const align = head.map((_, i) => (numeric(i) ? '---:' : '---'));
  return [`| ${head.join(' | ')} |`, `|${align.join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function faultsByKind(figures: Figures[]): string {
  const rows = figures.flatMap((f) =>
    Object.entries(f.faultsInjected)
      .filter(([, n]) => n > 0)
      .map(([kind, n]) => [short[f.suite], kind, String(n)]),
  );
  return table(['suite', 'fault', 'count'], rows, (i) => i === 2);
}

const d = (f: Figures | undefined, key: string) => (f?.details as Record<string, unknown> | undefined)?.[key];
const json = (v: unknown) => (v === undefined ? '—' : typeof v === 'object' ? `\`${JSON.stringify(v)}\`` : String(v));

function notes(figures: Figures[]): string {
  const by = (s: Figures['suite']) => figures.find((f) => f.suite === s);
  const crashes = by('crashes');
  const two = by('two-workers');
  const api = by('api-faults');
  const bad = by('bad-input');
  const lines: string[] = [];
  if (crashes) {
    lines.push(
      `**Crashes**: ${crashes.title}. ${crashes.kills.worker} SIGKILLs of \`node lib/worker.js\` at seeded random moments ` +
        `(seed ${crashes.seed}), each followed by a new worker process; ${crashes.kills.workerWithCreateInFlight} of them while the ` +
        `simulator held the answers to creates it had already acted on (creates unanswered at each: ${json(d(crashes, 'createsHeldAtKill'))}); ` +
        `${crashes.kills.server} SIGKILLs of \`temporal server start-dev\`, restarted on the same port and SQLite file. ` +
        `The campaign (\`callsPerMinute\` 600, \`maxConcurrentCalls\` 20, \`pollInterval\` 200ms) was approved through the ` +
        `\`approveCampaign\` update and ran as ${json(d(crashes, 'campaignRuns'))} runs (continue-as-new). What the crashes cost, ` +
        `read from the histories: ${json(d(crashes, 'workflowTaskTimeouts'))} workflow tasks timed out on a dead worker and were ` +
        `handed to the next one; ${json(d(crashes, 'activityRetries'))} activity retries (${json(d(crashes, 'retriedActivities'))}), ` +
        `the retried creates answered by the API's idempotency replay. Workflow task failures by cause: ` +
        `${json(d(crashes, 'workflowTaskFailuresByCause'))}. All ${json(d(crashes, 'replayed'))} histories of the namespace ` +
        `replayed deterministically with the production workflow bundle; kept for test/replay.test.ts: ` +
        `${((d(crashes, 'recordedHistories') as string[] | undefined) ?? []).map((f) => `\`${f}\``).join(', ') || 'none (RECORD_HISTORIES unset)'}.`,
    );
  }
  if (two) {
    const limit = d(two, 'limit') as { creates?: number; windowMs?: number; campaign?: string } | undefined;
    lines.push(
      `**Two workers**: ${two.title}. Killed: ${json(d(two, 'killed'))}, after ${json(d(two, 'killedAfterCreates'))} creates. ` +
        `Max creates in any ${(limit?.windowMs ?? 0) / 1000} s window, on the API's clock: **${json(d(two, 'maxCreatesInAnyWindow'))}** ` +
        `(limit ${limit?.creates}; campaign ${limit?.campaign}); the closest ${(limit?.creates ?? 0) + 1} consecutive creates spanned ` +
        `${json(d(two, 'closestElevenCreatesMs'))} ms; 429s from the API: **${json(d(two, 'refused429'))}**. After the kill, ` +
        `${json(d(two, 'tasksAfterKillBySurvivor'))} of ${json(d(two, 'tasksAfterKill'))} tasks ran on the survivor, which ` +
        `finished the campaign ${json(d(two, 'secondsFromKillToEnd'))} s later.`,
    );
  }
  if (api) {
    const retryGaps = d(api, 'readRetryGapsMs') as { count?: number; min?: number; median?: number } | undefined;
    lines.push(
      `**API faults**: ${api.title}. Every queued fault was served to some request. Failures by type: ` +
        `${json(d(api, 'failedByType'))}, each the one its scenario prescribes; final states ${json(d(api, 'counts'))}. ` +
        `Calls created: ${json(d(api, 'callsCreated'))}, one per person and one workflow per call id. Activity retries absorbed: ` +
        `${json(d(api, 'retriedActivities'))}. The next read after a faulted read came ${retryGaps?.min ?? '—'} ms later at the ` +
        `least (median ${retryGaps?.median ?? '—'} ms over ${retryGaps?.count ?? 0} cases): backoff, not a tight loop.`,
    );
  }
  if (bad) {
    lines.push(
      `**Bad input**: raw starts of both workflows, the starter CLI, CSV files through \`targetsCsvPath\`. Every attempt ended in a clear error (${bad.targets.concluded} of ${bad.targets.requested}) ` +
        `and the API received ${json(d(bad, 'apiRequests'))} requests. A 100,000-row file validated in ` +
        `${json(d(bad, 'validationOf100000RowsSeconds'))} s; a 3 MB argument is refused by the server ` +
        `(“${json(d(bad, 'oversizedStartError'))}”). What a person sees for each refused file:\n\n` +
        Object.entries((d(bad, 'csvMessages') as Record<string, string>) ?? {})
          .map(([what, message]) => `  - ${what}: “${message.replace(/\/tmp\/[^\s:]+/g, '<path>')}”`)
          .join('\n'),
    );
  }
  return lines.join('\n\n');
}

/** Machine, command, date and seeds of one run. */
function provenance(figures: Figures[]): string {
  const m = figures[0]!.machine;
  const start = figures.map((f) => f.startedAt).sort()[0]!;
  const end = new Date(Math.max(...figures.map((f) => Date.parse(f.startedAt) + f.durationMs))).toISOString();
  const commands = [...new Set(figures.map((f) => f.command))];
  const missing = order.filter((s) => !figures.some((f) => f.suite === s));
  return [
    `- **Machine:** ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node.js ${m.node} ` +
      `(load average at start: ${m.loadAverageAtStart.join(', ')}; shared with other test runs)`,
    `- **Command:** ${commands.map((c) => `\`${c}\``).join(', ')}`,
    `- **Date:** ${start} to ${end}`,
    `- **Seeds:** ${figures.map((f) => `${short[f.suite]} ${f.seed}`).join(', ')} (\`FAULTS_SEED=<seed>\` repeats a schedule)`,
    ...(missing.length ? [`- **Not run:** ${missing.map((s) => short[s]).join(', ')}`] : []),
  ].join('\n');
}

function render(runs: Figures[][]): string {
  const [main, ...others] = runs as [Figures[], ...Figures[][]];
  const size = main[0]!.size;
  return `# Reliability: nothing lost, nothing twice

<!-- Generated by scripts/faults-report.ts from test-results/faults/<size>/*.json. Do not edit by hand: run \`npm run test:faults\`. -->

Whatever crashes, every call asked for reaches a conclusion exactly once, and nobody is dialed twice because of a
retry. These figures are measured, not estimated: the suite under \`test/faults/\` runs the production worker
(\`node lib/worker.js\`) as a child process against a Temporal dev server of its own and the AgentPhone simulator, and
injects the faults: SIGKILLs of the worker and of the server, API faults from the simulator, bad input at every entry
point.

## ${sizeTitle[size]}

${provenance(main)}

${summaryTable(main)}

Duplicates, lost and stuck must be 0, and the API key must be found nowhere: the suite fails otherwise.
${others
  .map(
    (figures) => `
## ${sizeTitle[figures[0]!.size]}

${provenance(figures)}

${summaryTable(figures)}
`,
  )
  .join('')}
## Faults injected, by kind (${size})

${faultsByKind(main)}

## What each part showed (${size})

${notes(main)}

## How the figures are counted

- **Concluded**: the campaign ended \`completed\` and its per-target states (the \`campaignTargets\` query) hold no
  \`pending\` or \`in_flight\`; counts sum to the valid targets. For bad input: the attempt ended in a typed failure
  (or exit code 2) whose message names the problem, and the CSV line where there is one.
- **Lost**: a target whose final state differs from what its simulator scenario prescribes (e.g. \`vanishes\` must end
  \`CallNotFound\`, an ordinary number \`achieved\`), or that never concluded.
- **Duplicates**: numbers the simulator created more than one call for (\`sim.calls()\` grouped by number). Also
  checked: \`sim.stats().creates\` equals the call ids the \`createCall\` activities received, and each call id
  belongs to one workflow.
- **Stuck**: workflows still running (\`ExecutionStatus="Running"\`) once everything concluded.
- **Workflow task failures**: every history of the namespace is scanned for \`WorkflowTaskFailed\`. Two causes are
  expected and allowed, because they are protocol-level and the task is retried at once on a full history:
  \`UNHANDLED_COMMAND\` (new events arrived while a worker was closing the run) and \`RESET_STICKY_TASK_QUEUE\` (a
  worker got a task for a run no longer in its cache). Any other cause (\`NON_DETERMINISTIC_ERROR\`,
  \`WORKFLOW_WORKER_UNHANDLED_FAILURE\`, \`BAD_*\`, \`*_TOO_LARGE\`, …) fails the suite. A killed worker shows up as
  \`WorkflowTaskTimedOut\` instead, which is counted above as recovery, not as failure.
- **API key found**: the key (a distinctive one per run) is searched for in the binary and JSON form of every
  history in the namespace, every failure message, the whole output of every worker, server and CLI process, and every
  file the suite wrote (SQLite database, CSV files, recorded histories, these figures).
- **Not simulated**: power loss. The dev server's SQLite file runs in WAL mode without an fsync per commit, which
  keeps everything a SIGKILLed process wrote; a power cut could lose the last commits.
`;
}

const runs = sizes.map(load).filter((figures) => figures.length > 0);
if (runs.length === 0)
  throw new Error(`no figures under ${relative(root, inDir)}: run the suite first (npm run test:faults).`);
writeFileSync(outFile, render(runs));
for (const figures of runs) console.log(`\n${sizeTitle[figures[0]!.size]}\n\n${summaryTable(figures)}`);
console.log(`\nWrote ${relative(root, outFile)} from ${relative(root, inDir)}.`);
const failing = runs
  .flat()
  .filter((f) => f.targets.duplicates || f.targets.lost || f.targets.stuck || f.secretFoundIn.length);
if (failing.length) {
  console.error(`Failing figures in: ${failing.map((f) => `${short[f.suite]} (${f.size})`).join(', ')}`);
  process.exitCode = 1;
}
