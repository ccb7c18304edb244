import { IdempotencyKeys, type IdempotencyMode } from './idempotency';
import { FaultQueue } from './faults';
import { callIdOf, type HostileSet } from './hostile';
import { stateOf, type CallState, type Lifecycle } from './lifecycle';
import { SlidingWindow } from './rate-limit';
import { behaviourOf, type Scenario } from './scenarios';
import { CallStore, type CallRecord } from './store';
import { logLine } from './log-line';
import type { CreateCallInput } from './validation';
import { Waits } from './waits';

export interface RequestLogEntry {
  /** ms epoch, sim clock, when the request arrived */
  at: number;
  method: string;
  path: string;
  status: number | 'reset';
  callId?: string;
  idempotencyKey?: string;
  toPhoneNumber?: string;
  /** Whether `x-api-key` was right. The key itself is never stored. */
  apiKeyValid: boolean;
}

export interface SimulatorStats {
  /** Calls actually created. */
  creates: number;
  /**
   * Calls created with an `Idempotency-Key` that had already created a call: numbers dialed again that an API
   * honouring the key would have answered with the first call (or a 409). 0 under `idempotency: 'honour'`,
   * unless a key outlived its 24 h.
   */
  duplicateKeyCreates: number;
  createRequests: number;
  getRequests: number;
  byStatus: Record<number, number>;
  /** By fault kind (`faults.add`) or by scenario name (magic numbers). */
  faultsInjected: Record<string, number>;
}

export interface SimulatorConfig {
  readonly apiKey: string;
  readonly credits: number;
  /** The window is already multiplied by `timeScale`. */
  readonly rateLimit: { readonly limit: number; readonly windowMs: number };
  readonly lifecycle: Lifecycle;
  /** Reported for completed calls: the unscaled in-progress duration, as a real call would report it. */
  readonly durationSeconds: number;
  readonly slowCreateMs: number;
  /** At start and after `reset()`; `setIdempotency` and `setHostile` change the state's copies. */
  readonly idempotency: IdempotencyMode;
  readonly hostility: HostileSet;
  readonly now: () => number;
  readonly log: ((line: string) => void) | undefined;
}

function emptyStats(): SimulatorStats {
  return { creates: 0, duplicateKeyCreates: 0, createRequests: 0, getRequests: 0, byStatus: {}, faultsInjected: {} };
}

/** Everything the simulator remembers between requests. */
export class SimulatorState {
  readonly calls = new CallStore();
  readonly idempotencyKeys = new IdempotencyKeys();
  readonly faults = new FaultQueue();
  readonly waits = new Waits();
  readonly window: SlidingWindow;
  credits: number;
  requests: RequestLogEntry[] = [];
  stats = emptyStats();
  idempotency: IdempotencyMode;
  hostility: HostileSet;
  /** Scenarios whose one-time refusal has happened (one number each). */
  readonly #spent = new Set<Scenario>();
  /** Idempotency keys that created a call, whatever the mode, for `duplicateKeyCreates`. */
  readonly #keysThatCreated = new Set<string>();

  constructor(readonly config: SimulatorConfig) {
    this.window = new SlidingWindow(config.rateLimit.limit, config.rateLimit.windowMs);
    this.credits = config.credits;
    this.idempotency = config.idempotency;
    this.hostility = config.hostility;
  }

  /** Whether this scenario refuses a create with `status` now; a one-time refusal is used up by refusing. */
  refuses(scenario: Scenario, status: number): boolean {
    const refusal = behaviourOf(scenario).onCreate;
    if (refusal?.status !== status || this.#spent.has(scenario)) return false;
    if (refusal.once) this.#spent.add(scenario);
    this.countFault(scenario);
    return true;
  }

  countFault(name: string): void {
    this.stats.faultsInjected[name] = (this.stats.faultsInjected[name] ?? 0) + 1;
  }

  createCall(
    input: CreateCallInput,
    scenario: Scenario,
    idempotencyKey: string | undefined,
    fingerprint: string,
  ): CallRecord {
    const now = this.config.now();
    const turn = this.stats.creates;
    const call = this.calls.create(input, scenario, now, idempotencyKey, (random) =>
      callIdOf(this.hostility, this.config.apiKey, random, turn),
    );
    if (idempotencyKey !== undefined) {
      if (this.#keysThatCreated.has(idempotencyKey)) this.stats.duplicateKeyCreates += 1;
      this.#keysThatCreated.add(idempotencyKey);
      if (this.idempotency === 'honour') this.idempotencyKeys.remember(idempotencyKey, fingerprint, call.callId, now);
    }
    this.credits -= 1;
    this.window.record(now);
    this.stats.creates += 1;
    return call;
  }

  stateOf(call: CallRecord): CallState {
    return stateOf(call, behaviourOf(call.scenario), this.config.lifecycle, this.config.now());
  }

  record(entry: RequestLogEntry): void {
    this.requests.push(entry);
    if (entry.status !== 'reset') this.stats.byStatus[entry.status] = (this.stats.byStatus[entry.status] ?? 0) + 1;
    // A create's path does not name its call, so the line does.
    const callId = entry.callId !== undefined && entry.method === 'POST' ? ` ${entry.callId}` : '';
    this.log(`${entry.method} ${entry.path} ${entry.status}${callId}`);
  }

  /** Every line the simulator prints goes through here: hostile call ids and paths can carry the key. */
  log(line: string): void {
    this.config.log?.(logLine(line, this.config.apiKey));
  }

  reset(): void {
    this.calls.clear();
    this.idempotencyKeys.clear();
    this.faults.clear();
    this.window.clear();
    this.waits.release();
    this.#spent.clear();
    this.#keysThatCreated.clear();
    this.idempotency = this.config.idempotency;
    this.hostility = this.config.hostility;
    this.credits = this.config.credits;
    this.requests = [];
    this.stats = emptyStats();
  }
}
