/**
 * Benchmark 7: a DNC list of 1,000,000 numbers imported into the contact store, on PostgreSQL and on the embedded
 * store side by side: how long it takes, and how far the process's memory grows (it should not grow with the list:
 * rows stream, 1,000 per INSERT, in one transaction). Each store runs in a node process of its own, one after the
 * other, so that its time and its peaks are its own. Prints its figures and writes its own section of
 * docs/benchmarks.md (that section only).
 *
 *   npx tsx bench/dnc-import.ts [--rows 1000000] [--database-url postgres://…] [--no-write]
 *
 * `--rows` (or BENCH_DNC_ROWS): the list's length. PostgreSQL is a server of its own (test/helpers/postgres.ts:
 * PostgreSQL 15, run as `postgres` through runuser when this runs as root), unless `--database-url` names one; the
 * embedded store is PGlite in a temporary directory.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type ContactStore, type DncImportRow, importBatchSize, openContactStore } from '../src/contact-store';
import type * as PostgresHelper from '../test/helpers/postgres';
import type * as ChildHelper from './helpers/child';
import { loadAverage, machineInfo, processMemoryMiB } from './helpers/machine';
import { ms } from './helpers/scale';

/**
 * The parent's helpers, loaded when it needs them, not at the top: the children run this file too, and their memory
 * must hold the store alone (the dev-server and browser helpers these import weigh ~90 MiB of RSS).
 */
const parentOnly = createRequire(__filename);

export const defaultDncRows = 1_000_000;

/** The list's length: `--rows`, else BENCH_DNC_ROWS, else 1,000,000. */
export function dncRowsOption(arg: string | undefined): number {
  const value = arg ?? process.env.BENCH_DNC_ROWS;
  const rows = value === undefined || value === '' ? defaultDncRows : Number(value);
  if (!Number.isInteger(rows) || rows < 1)
    throw new Error(`The DNC list's length must be a positive integer, not ${value}.`);
  return rows;
}

/**
 * `count` distinct numbers, one row at a time as the CLI streams a file's lines: memory holds none of them. Eleven
 * digits under +1999 (no real area code), so that no number of the other benchmarks is on the list.
 */
export async function* dncRows(count: number): AsyncGenerator<DncImportRow> {
  for (let i = 0; i < count; i++) yield { number: `+1999${String(i).padStart(7, '0')}`, line: i + 1 };
}

export const storeKinds = ['postgres', 'embedded'] as const;
export type StoreKind = (typeof storeKinds)[number];

/** Where each store of a run lives, what it is, and how to clean up after it. */
export interface BenchStores {
  databaseUrl: string;
  dataDir: (kind: string) => string;
  labels: Record<StoreKind, string>;
  stop(): Promise<void>;
}

/**
 * A PostgreSQL database (on a server of its own, unless `databaseUrl` names one) and a parent directory for the
 * embedded store's temporary data directories.
 */
export async function prepareStores(databaseUrl: string | undefined): Promise<BenchStores> {
  const { postgresBinDir, startPostgres } = parentOnly('../test/helpers/postgres') as typeof PostgresHelper;
  const server = databaseUrl ? undefined : await startPostgres();
  const dirs = mkdtempSync(join(tmpdir(), 'agentphone-store-bench-'));
  let created = 0;
  const version = execFileSync(join(postgresBinDir, 'postgres'), ['--version'], { encoding: 'utf8' })
    .trim()
    .replace(/^postgres \(PostgreSQL\) /, '');
  const pglite = (
    JSON.parse(
      readFileSync(join(__dirname, '..', 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8'),
    ) as {
      version: string;
    }
  ).version;
  return {
    databaseUrl: databaseUrl ?? (await server!.createDatabase()),
    dataDir: (kind) => join(dirs, `${kind}-${++created}`),
    labels: {
      postgres: server
        ? `PostgreSQL ${version}, a server of its own on 127.0.0.1 (default settings), through the store's pool`
        : 'PostgreSQL at --database-url, through the store’s pool',
      embedded: `embedded: PGlite ${pglite} (PostgreSQL in WASM, in the process) in a temporary directory`,
    },
    async stop() {
      try {
        await server?.stop();
      } finally {
        rmSync(dirs, { recursive: true, force: true });
      }
    },
  };
}

/** Runs `bench/<file> --child <kind> …args` with the store's place in its environment; returns its `result` line. */
export async function runStoreChild<T>(
  file: string,
  kind: StoreKind,
  stores: BenchStores,
  args: string[] = [],
  watch?: (child: ChildHelper.TsChild) => void,
): Promise<T> {
  const { runTsChild } = parentOnly('./helpers/child') as typeof ChildHelper;
  // The URL holds a password: in the environment, not on a command line that `ps` shows.
  const env =
    kind === 'postgres'
      ? { BENCH_STORE_DATABASE_URL: stores.databaseUrl }
      : { BENCH_STORE_DATA_DIR: stores.dataDir(kind) };
  const child = runTsChild(file, ['--child', kind, ...args], env);
  watch?.(child);
  const line = (await child.done).find((l) => l.startsWith('result '));
  if (!line) throw new Error(`the ${kind} child of bench/${file} printed no result`);
  return JSON.parse(line.slice('result '.length)) as T;
}

/** In a child: the store `runStoreChild` named. */
export function openChildStore(kind: StoreKind): Promise<ContactStore> {
  const name = kind === 'postgres' ? 'BENCH_STORE_DATABASE_URL' : 'BENCH_STORE_DATA_DIR';
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: a child runs from its benchmark (runStoreChild), not alone.`);
  return openContactStore(kind === 'postgres' ? { databaseUrl: value } : { dataDir: value });
}

const mib = (bytes: number) => bytes / 1024 / 1024;

/**
 * A child's RSS (from /proc, so it is read even while the child's event loop is busy: PGlite's statements run in it)
 * every `everyMs`, between its `baseline` and `imported` lines, the largest kept for each half of the rows (its
 * `half` line between them).
 */
function sampleChildRss(child: ChildHelper.TsChild, everyMs: number) {
  const peaks: number[] = [];
  let phase = -1;
  let samples = 0;
  const sample = () => {
    const rss = phase < 0 ? undefined : processMemoryMiB(child.pid)?.rss;
    if (rss === undefined || Number.isNaN(rss)) return;
    samples++;
    peaks[phase] = Math.max(peaks[phase] ?? 0, rss);
  };
  const timer = setInterval(sample, everyMs);
  // A sample at each line too, so that every phase has one however short.
  const on = (line: RegExp, then: () => void) => child.line(line).then(then, () => {});
  void on(/^baseline$/, () => {
    phase = 0;
    sample();
  });
  void on(/^half$/, () => {
    sample();
    phase = 1;
    sample();
  });
  void on(/^imported$/, () => {
    sample();
    clearInterval(timer);
  });
  void child.done.finally(() => clearInterval(timer)).catch(() => {});
  return () => ({ peaks, samples });
}

/** What one child measured: one store importing the list. */
export interface DncImportVariant {
  store: StoreKind;
  rows: number;
  added: number;
  updated: number;
  /** Wall time of `importRows`, in ms. */
  ms: number;
  rssMiB: {
    /** Once the store was open (its migrations applied) and after a full GC: the baseline. */
    afterOpen: number;
    /** Largest RSS sampled every 100 ms during the import, and in its first and second halves. */
    peak: number;
    firstHalf: number;
    secondHalf: number;
    /** The kernel's high-water mark (VmHWM), reset after the baseline: the exact peak of the import. */
    hwmImport: number;
    /** VmHWM over the process's whole life, its start and the store's open included (read before the reset). */
    hwmOpen: number;
  };
  samples: number;
  /** The longest a 100 ms timer of the child waited to fire during the import, in ms: how long its loop was busy. */
  longestTimerDelayMs: number;
}

export interface DncImportBenchResult {
  startedAt: string;
  rows: number;
  labels: Record<StoreKind, string>;
  variants: DncImportVariant[];
  machine: ReturnType<typeof machineInfo>;
  load: { start: [number, number, number]; end: [number, number, number] };
}

export async function runDncImportBench(
  rows: number,
  databaseUrl: string | undefined,
  log: (line: string) => void = console.log,
): Promise<DncImportBenchResult> {
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const start = loadAverage();
  const stores = await prepareStores(databaseUrl);
  try {
    const variants: DncImportVariant[] = [];
    // One at a time: on a small machine two would share its cores and each other's time.
    for (const kind of storeKinds) {
      let sampled: (() => { peaks: number[]; samples: number }) | undefined;
      const measured = await runStoreChild<Omit<DncImportVariant, 'rssMiB' | 'samples'> & { rssMiB: ChildRss }>(
        'dnc-import.ts',
        kind,
        stores,
        [String(rows)],
        (child) => (sampled = sampleChildRss(child, 100)),
      );
      const { peaks, samples } = sampled!();
      const variant: DncImportVariant = {
        ...measured,
        rssMiB: {
          ...measured.rssMiB,
          peak: Math.max(...peaks),
          firstHalf: peaks[0] ?? Number.NaN,
          secondHalf: peaks[1] ?? Number.NaN,
        },
        samples,
      };
      variants.push(variant);
      log(`   ${describeVariant(variant)}`);
    }
    return { startedAt, rows, labels: stores.labels, variants, machine, load: { start, end: loadAverage() } };
  } finally {
    await stores.stop();
  }
}

const storeName = (kind: StoreKind) => (kind === 'postgres' ? 'PostgreSQL' : 'embedded');
const growth = (v: DncImportVariant) => v.rssMiB.peak - v.rssMiB.afterOpen;
const mibOrNa = (value: number) => (Number.isFinite(value) ? `${value.toFixed(0)} MiB` : 'n/a');
const signed = (value: number) => `${value < 0 ? '−' : '+'}${Math.abs(value).toFixed(0)}`;

function describeVariant(v: DncImportVariant): string {
  return (
    `${storeName(v.store).padEnd(10)} ${v.rows.toLocaleString('en')} numbers in ${ms(v.ms)} ` +
    `(${Math.round(v.rows / (v.ms / 1000)).toLocaleString('en')} a second; ${v.added} added, ${v.updated} updated); ` +
    `RSS ${v.rssMiB.afterOpen.toFixed(0)} MiB after open → peak ${v.rssMiB.peak.toFixed(0)} MiB ` +
    `(${signed(growth(v))} MiB; halves ${v.rssMiB.firstHalf.toFixed(0)} / ${v.rssMiB.secondHalf.toFixed(0)} MiB), ` +
    `VmHWM ${mibOrNa(v.rssMiB.hwmImport)} in the import (${v.rssMiB.hwmOpen.toFixed(0)} MiB at open); ` +
    `event loop busy up to ${ms(v.longestTimerDelayMs)} at a stretch`
  );
}

const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
export const table = (head: string[], rows: (string | number)[][]) =>
  [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
export const utc = (iso: string) => new Date(iso).toISOString().slice(0, 16).replace('T', ' ');
export const loadLine = (load: { start: number[]; end: number[] }, cores: number) =>
  `Load average (1 min): ${load.start[0]?.toFixed(2)} at the start of this section, ${load.end[0]?.toFixed(2)} at its ` +
  `end, on ${cores} cores shared with other engineers' test runs: the times are pessimistic here. Re-measure on a quiet ` +
  'machine.';
export const notInBenchRun =
  'Not part of `npm run bench` (a million-row import would double its time): a full run keeps sections 7 and 8 as ' +
  'they are; run `npx tsx bench/dnc-import.ts` and `npx tsx bench/policy-check.ts` to measure them again.';

/** The line that names each section's writer, by which it finds its own section again. */
export const dncImportMarker = '<!-- Written by `npx tsx bench/dnc-import.ts`, which replaces this section only. -->';
export const policyCheckMarker =
  '<!-- Written by `npx tsx bench/policy-check.ts`, which replaces this section only. -->';

export function dncImportSection(r: DncImportBenchResult): string[] {
  const v = (kind: StoreKind) => r.variants.find((variant) => variant.store === kind)!;
  const both = (cell: (variant: DncImportVariant) => string) => storeKinds.map((kind) => cell(v(kind)));
  const n = r.rows.toLocaleString('en');
  return [
    `## 7. Importing a DNC list of ${n} numbers`,
    dncImportMarker,
    '',
    `Measured by \`npx tsx bench/dnc-import.ts\` on ${utc(r.startedAt)} UTC, apart from the run above. ${notInBenchRun}`,
    '',
    `**Setup.** ${n} distinct numbers (\`+1999\` and seven digits) generated on the fly as an async iterable, one row ` +
      'at a time as the CLI streams a file’s lines (`BENCH_DNC_ROWS` or `--rows` changes the length), into ' +
      `\`store.dnc.importRows\` of an empty store: one transaction, ${importBatchSize.toLocaleString('en')} numbers ` +
      'per `INSERT … ON CONFLICT`. Each store in a node process of its own (`bench/dnc-import.ts --child`), one after ' +
      `the other. **PostgreSQL**: ${r.labels.postgres}. **Embedded**: ${r.labels.embedded.replace(/^embedded: /, '')}.`,
    '',
    '**Memory.** The importing process’s RSS, read from `/proc` by the parent every 100 ms during the import (so ' +
      'it is read while the child’s event loop is busy); the baseline is its RSS once the store was open (its ' +
      'migrations applied), after a full GC. The kernel’s high-water mark (VmHWM) is read twice: at the baseline, ' +
      'over the process’s life so far (its start and the store’s open), and at the end, after a reset at the ' +
      'baseline (`/proc/self/clear_refs`): the exact peak of the import, between samples too. The PostgreSQL ' +
      'server’s own processes are not counted: their memory is the server’s, bounded by its settings.',
    '',
    table(
      ['', 'PostgreSQL', 'embedded (PGlite)'],
      [
        ['**wall time** of the import', ...both((x) => `**${ms(x.ms)}**`)],
        ['numbers a second', ...both((x) => Math.round(x.rows / (x.ms / 1000)).toLocaleString('en'))],
        ['added / updated', ...both((x) => `${x.added.toLocaleString('en')} / ${x.updated.toLocaleString('en')}`)],
        ['RSS after open (baseline)', ...both((x) => `${x.rssMiB.afterOpen.toFixed(0)} MiB`)],
        [
          '**peak RSS** during the import (sampled every 100 ms)',
          ...both((x) => `**${x.rssMiB.peak.toFixed(0)} MiB**`),
        ],
        ['**growth** over the baseline', ...both((x) => `**${signed(growth(x))} MiB**`)],
        [
          'peak RSS in the first / second half of the rows',
          ...both((x) => `${x.rssMiB.firstHalf.toFixed(0)} / ${x.rssMiB.secondHalf.toFixed(0)} MiB`),
        ],
        ['VmHWM during the import (exact)', ...both((x) => mibOrNa(x.rssMiB.hwmImport))],
        ['VmHWM up to the baseline (process start and open)', ...both((x) => mibOrNa(x.rssMiB.hwmOpen))],
        ['RSS samples', ...both((x) => String(x.samples))],
        [
          'longest the event loop was busy at a stretch (a 100 ms timer’s delay)',
          ...both((x) => ms(x.longestTimerDelayMs)),
        ],
      ],
    ),
    '',
    `- **PostgreSQL: ${ms(v('postgres').ms)}, ${signed(growth(v('postgres')))} MiB over its baseline; embedded: ` +
      `${ms(v('embedded').ms)}, ${signed(growth(v('embedded')))} MiB** for ${n} numbers. Memory that grew with the ` +
      'list would show as a second half’s peak above the first’s: ' +
      storeKinds
        .map(
          (k) => `${v(k).rssMiB.firstHalf.toFixed(0)} then ${v(k).rssMiB.secondHalf.toFixed(0)} MiB (${storeName(k)})`,
        )
        .join(', ') +
      '.' +
      storeKinds
        .filter((k) => v(k).rssMiB.secondHalf < v(k).rssMiB.afterOpen)
        .map(
          (k) =>
            ` The ${storeName(k)} process’s RSS fell below its baseline in the second half; why was not investigated.`,
        )
        .join(''),
    `- The embedded store’s baseline, ${v('embedded').rssMiB.afterOpen.toFixed(0)} MiB against ` +
      `${v('postgres').rssMiB.afterOpen.toFixed(0)} MiB, is PGlite’s: PostgreSQL compiled to WASM, with its memory, in ` +
      'the process (the PostgreSQL server holds the same in processes of its own, not counted here).',
    ...(v('embedded').longestTimerDelayMs > 1000
      ? [
          `- The embedded import kept its process’s event loop busy for up to ${ms(v('embedded').longestTimerDelayMs)} ` +
            `at a stretch, of ${ms(v('embedded').ms)} in all (PostgreSQL: ${ms(v('postgres').longestTimerDelayMs)}): ` +
            'PGlite runs each statement in the process, and its promises resolve without waiting for I/O, so timers ' +
            'wait for the import. Harmless in the CLI; a worker in the same process would run none of its JavaScript ' +
            'meanwhile.',
        ]
      : []),
    `- ${loadLine(r.load, r.machine.cores)}`,
    '',
  ];
}

/**
 * Replaces the section of docs/benchmarks.md that holds `marker` (from its `## ` heading to the next one) with
 * `lines`, leaving every other section as it is; a section not there yet goes before the one holding `before`, if
 * any, else at the end.
 */
export function writeBenchSection(marker: string, lines: string[], before?: string): string {
  const path = join(__dirname, '..', 'docs', 'benchmarks.md');
  const doc = readFileSync(path, 'utf8').replace(/\n+$/, '').split('\n');
  const sectionOf = (mark: string | undefined) => {
    const at = mark === undefined ? -1 : doc.indexOf(mark);
    if (at < 0) return undefined;
    let start = at;
    while (start > 0 && !doc[start]!.startsWith('## ')) start--;
    let end = at + 1;
    while (end < doc.length && !doc[end]!.startsWith('## ')) end++;
    return { start, end };
  };
  const own = sectionOf(marker);
  const next = sectionOf(before);
  const block = lines[lines.length - 1] === '' ? lines.slice(0, -1) : lines;
  if (own) doc.splice(own.start, own.end - own.start, ...block, ...(own.end < doc.length ? [''] : []));
  else if (next) doc.splice(next.start, 0, ...block, '');
  else doc.push('', ...block);
  writeFileSync(path, `${doc.join('\n')}\n`);
  return path;
}

/** What the child measures of its own memory; the parent samples the rest. */
type ChildRss = Pick<DncImportVariant['rssMiB'], 'afterOpen' | 'hwmImport' | 'hwmOpen'>;

/** Sets the process's VmHWM back to its RSS now (Linux's clear_refs); false where that is not allowed. */
function resetHighWaterMark(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * A child process: one store, the list imported once, its figures printed as `result <json>`; `baseline`, `half` and
 * `imported` lines tell the parent, which samples its RSS, where the import is.
 */
async function runChild(args: string[]): Promise<void> {
  const [kind, rowsArg] = args as [StoreKind, string];
  const rows = Number(rowsArg);
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const store = await openChildStore(kind);
  try {
    gc();
    // A freed heap goes back to the system a little after the GC: the baseline is taken once it has.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const afterOpen = mib(process.memoryUsage.rss());
    const hwmOpen = processMemoryMiB(process.pid)?.peak ?? Number.NaN;
    const reset = resetHighWaterMark();
    const half = Math.floor(rows / 2);
    async function* streamed(): AsyncGenerator<DncImportRow> {
      for await (const r of dncRows(rows)) {
        if (r.line === half + 1) console.log('half');
        yield r;
      }
    }
    let longestTimerDelayMs = 0;
    let tick = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      longestTimerDelayMs = Math.max(longestTimerDelayMs, now - tick - 100);
      tick = now;
    }, 100);
    console.log('baseline');
    const t0 = performance.now();
    const result = await store.dnc.importRows(streamed(), { by: 'bench', source: 'bench/dnc-import.ts' });
    const elapsed = performance.now() - t0;
    console.log('imported');
    clearInterval(timer);
    longestTimerDelayMs = Math.max(longestTimerDelayMs, performance.now() - tick - 100);
    const rssMiB: ChildRss = {
      afterOpen,
      hwmImport: reset ? (processMemoryMiB(process.pid)?.peak ?? Number.NaN) : Number.NaN,
      hwmOpen,
    };
    console.log(
      `result ${JSON.stringify({ store: store.kind, rows, ...result, ms: elapsed, rssMiB, longestTimerDelayMs })}`,
    );
  } finally {
    await store.close();
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    runChild(argv.slice(1)).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  } else {
    const { values } = parseArgs({
      args: argv,
      options: { rows: { type: 'string' }, 'database-url': { type: 'string' }, 'no-write': { type: 'boolean' } },
    });
    const rows = dncRowsOption(values.rows);
    console.log(`== 7. Importing a DNC list of ${rows.toLocaleString('en')} numbers (load ${loadAverage().join(' ')})`);
    runDncImportBench(rows, values['database-url'])
      .then((result) => {
        const lines = dncImportSection(result);
        if (values['no-write']) return console.log('docs/benchmarks.md not written (--no-write)');
        // Section 8 (the policy check) follows this one.
        console.log(`written: ${writeBenchSection(dncImportMarker, lines, policyCheckMarker)} (section 7 only)`);
      })
      .catch((error: unknown) => {
        console.error(error);
        process.exitCode = 1;
      });
  }
}
