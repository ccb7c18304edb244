import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { root } from './processes';

export const figuresDir = join(root, 'test-results', 'faults');

/** What one file of the suite measured; scripts/faults-report.ts renders docs/reliability.md from these. */
export interface Figures {
  suite: 'crashes' | 'two-workers' | 'api-faults' | 'bad-input' | 'hostile' | 'shared-key' | 'shared-key-no-dedup';
  title: string;
  size: 'ci' | 'large';
  seed?: number;
  /** ISO time the file's first test started. */
  startedAt: string;
  durationMs: number;
  command: string;
  machine: Machine;
  /** Faults injected, by kind (simulator faults, simulator scenarios, process kills, bad inputs). */
  faultsInjected: Record<string, number>;
  kills: { worker: number; server: number; workerWithCreateInFlight: number };
  targets: {
    /** Targets (or entry-point attempts) that were asked for. */
    requested: number;
    concluded: number;
    /** People dialed more than once. Must be 0. */
    duplicates: number;
    /** Targets with no conclusion, or concluded differently than their scenario says. Must be 0. */
    lost: number;
    /** Workflows still open after everything concluded. Must be 0. */
    stuck: number;
  };
  /** Everything else worth reading (per-kind details, timings, retries absorbed). */
  details: Record<string, unknown>;
  /**
   * Rows of the summary table that only some suites measure (forged starts refused, creates over the key's ceiling,
   * outcomes unknown…), by the row's label; a label marked `mustBeZero` is checked like duplicates and lost.
   */
  rows?: Record<
    string,
    { value: number; mustBeZero?: boolean; /** The All column shows the largest, not the sum. */ max?: boolean }
  >;
  /** Places the API key was found. Must be empty. */
  secretFoundIn: string[];
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  loadAverageAtStart: number[];
}

export function machine(): Machine {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${type()} ${release()}`,
    node: process.version,
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export const faultsSize: 'ci' | 'large' = process.env.FAULTS_SIZE === 'large' ? 'large' : 'ci';

/** The command that ran the suite, as a person would type it again. */
export function commandLine(file: string): string {
  const event = process.env.npm_lifecycle_event;
  const sizeVar = faultsSize === 'large' ? 'FAULTS_SIZE=large ' : '';
  if (event === 'test:faults') return `${sizeVar}npm run test:faults`;
  if (event === 'test') return 'npm test';
  return `${sizeVar}npx vitest run ${file}`;
}

/** A whole-number setting from the environment, for sizing runs. */
export function envInt(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got ${value}`);
  return n;
}

/** Under test-results/faults/<size>/, so that a CI-size run (npm test) never overwrites the large one. */
export function writeFigures(figures: Figures): string {
  const dir = join(figuresDir, figures.size);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${figures.suite}.json`);
  writeFileSync(path, `${JSON.stringify(figures, null, 2)}\n`);
  return path;
}

/** One block per file in the test output, so `npm run test:faults` shows the figures as they are measured. */
export function printFigures(figures: Figures): void {
  const faults = Object.entries(figures.faultsInjected)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const t = figures.targets;
  console.log(
    [
      `── ${figures.title} (${figures.size}${figures.seed === undefined ? '' : `, seed ${figures.seed}`}, ${(figures.durationMs / 1000).toFixed(0)} s)`,
      `   faults injected: ${faults || 'none'}`,
      `   kills survived: worker ${figures.kills.worker} (${figures.kills.workerWithCreateInFlight} with a create in flight), server ${figures.kills.server}`,
      `   targets: ${t.requested} requested, ${t.concluded} concluded, duplicates ${t.duplicates}, lost ${t.lost}, stuck ${t.stuck}`,
      `   API key found in: ${figures.secretFoundIn.length ? figures.secretFoundIn.join(', ') : 'nothing'}`,
    ].join('\n'),
  );
}
