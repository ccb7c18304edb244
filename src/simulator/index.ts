import { createsPerWindow, freeCalls, rateWindowMs } from '../agentphone/contract';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Faults } from './faults';
import { hostileSetOf, type Hostility } from './hostile';
import { idempotencyModes, type IdempotencyMode } from './idempotency';
import { defaultDurations, lifecycleOf, type CallStatus, type Durations, type Progress } from './lifecycle';
import type { Scenario } from './scenarios';
import { createListener } from './server';
import { SimulatorState, type RequestLogEntry, type SimulatorStats } from './state';

export { magicNumbers } from './scenarios';
export type { Scenario } from './scenarios';
export type { CallStatus, Durations, Progress } from './lifecycle';
export type { Fault, FaultKind, Faults } from './faults';
export { controlSequence, hostileBehaviours, hugeErrorBytes } from './hostile';
export type { HostileBehaviour, Hostility } from './hostile';
export type { IdempotencyMode } from './idempotency';
export type { RequestLogEntry, SimulatorStats } from './state';

export interface SimulatorOptions {
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 'sim_test_key' */
  apiKey?: string;
  /** Each created call costs one. `Infinity` never runs out. @default 5 */
  credits?: number;
  /**
   * Accepted creates per sliding window, all keys together; the window is scaled by `timeScale`.
   * @default { limit: 10, windowMs: 60_000 }
   */
  rateLimit?: { limit: number; windowMs: number };
  /** `polls`: one status step per GET, for time-skipping tests. `time`: statuses follow the clock. @default 'time' */
  progress?: Progress;
  /** Multiplies every duration and the rate-limit window: 1/60 makes an API minute last a second. @default 1 */
  timeScale?: number;
  /**
   * How long each status lasts in `time` mode, before `timeScale`.
   * @default { queuedMs: 3000, dialingMs: 5000, inProgressMs: 26000 }
   */
  durations?: Partial<Durations>;
  /**
   * `honour`: an `Idempotency-Key` that created a call gets that call back for 24 h, or 409 with another body.
   * `ignore`: the header is ignored, as by an API without idempotency: every create that passes the checks
   * creates a call, and `stats().duplicateKeyCreates` counts those whose key had already created one.
   * @default 'honour'
   */
  idempotency?: IdempotencyMode;
  /**
   * Hostile responses, each behaviour switched on by name, or `'all'`: keys echoed in errors, headers, call ids and
   * call fields; formula and control-character ids and fields; 1 MiB errors. See {@link Hostility}.
   * @default {} (friendly)
   */
  hostile?: Hostility | 'all';
  /** How long the `slowCreate` number's create response waits, in wall-clock ms (not scaled). @default 5000 */
  slowCreateMs?: number;
  /** The sim clock, for timestamps, `time` progress, the rate window and idempotency keys. @default Date.now */
  now?: () => number;
  /** Receives one line per request (method, path, status, call id; never the key). */
  log?: (line: string) => void;
}

/** A call as the simulator sees it, with its status as of now. */
export interface SimulatedCall {
  readonly callId: string;
  readonly scenario: Scenario;
  readonly toPhoneNumber: string;
  readonly objective: string;
  readonly businessName?: string;
  readonly website?: string;
  readonly idempotencyKey?: string;
  /** ms epoch, sim clock */
  readonly createdAt: number;
  readonly status: CallStatus;
  /** GETs of this call so far, including those answered with an injected error. */
  readonly reads: number;
}

export interface Simulator {
  /** e.g. `http://127.0.0.1:PORT/api/v1` */
  readonly baseUrl: string;
  readonly port: number;
  readonly apiKey: string;
  requests(): readonly RequestLogEntry[];
  calls(): readonly SimulatedCall[];
  setCredits(n: number): void;
  credits(): number;
  /** The next matching requests fail as told. */
  readonly faults: Faults;
  /** Until `releaseCreates()` or for `ms` (wall clock), creates still create their call but their responses wait. */
  holdCreates(ms: number): void;
  releaseCreates(): void;
  /** From the next request on; `reset()` goes back to the start option. */
  setIdempotency(mode: IdempotencyMode): void;
  /** Replaces the hostile behaviours from the next request on (`{}`: friendly); `reset()` goes back to the start option. */
  setHostile(hostile: Hostility | 'all'): void;
  stats(): SimulatorStats;
  /** Calls created per `to_phone_number`: every one of them would have dialed the number. */
  dialsByNumber(): Record<string, number>;
  /** The numbers dialed more than once, with their counts: `{}` when no number was dialed twice. */
  redialedNumbers(): Record<string, number>;
  /**
   * Forgets calls, the request log, faults, idempotency keys, the rate window and stats;
   * credits, idempotency and hostile behaviours go back to the start.
   */
  reset(): void;
  /** Closes keep-alive connections too and ends every held response. */
  close(): Promise<void>;
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new RangeError(`simulator: ${message}`);
}

function checkIdempotency(mode: IdempotencyMode): void {
  check(idempotencyModes.includes(mode), `idempotency must be one of ${idempotencyModes.join(', ')}`);
}

function dialsByNumber(calls: readonly { readonly input: { readonly to_phone_number: string } }[]) {
  const dials: Record<string, number> = {};
  for (const { input } of calls) dials[input.to_phone_number] = (dials[input.to_phone_number] ?? 0) + 1;
  return dials;
}

function isCredits(n: number): boolean {
  return n === Infinity || (Number.isInteger(n) && n >= 0);
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const {
    port = 0,
    host = '127.0.0.1',
    apiKey = 'sim_test_key',
    credits = freeCalls,
    rateLimit = { limit: createsPerWindow, windowMs: rateWindowMs },
    progress = 'time',
    timeScale = 1,
    durations = {},
    slowCreateMs = 5000,
    idempotency = 'honour',
    hostile = {},
    now = Date.now,
    log,
  } = options;
  check(apiKey !== '', 'apiKey must not be empty');
  check(isCredits(credits), 'credits must be a non-negative integer or Infinity');
  check(rateLimit.limit >= 1 && rateLimit.windowMs > 0, 'rateLimit needs limit >= 1 and windowMs > 0');
  check(timeScale > 0 && Number.isFinite(timeScale), 'timeScale must be a positive number');
  check(slowCreateMs >= 0, 'slowCreateMs must not be negative');
  checkIdempotency(idempotency);
  const fullDurations = { ...defaultDurations, ...durations };

  const state = new SimulatorState({
    apiKey,
    credits,
    rateLimit: { limit: rateLimit.limit, windowMs: rateLimit.windowMs * timeScale },
    lifecycle: lifecycleOf(progress, fullDurations, timeScale),
    durationSeconds: Math.round(fullDurations.inProgressMs / 1000),
    slowCreateMs,
    idempotency,
    hostility: hostileSetOf(hostile),
    now,
    log,
  });
  const server = createServer(createListener(state));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;

  return {
    baseUrl: `http://${dialableHost(host)}:${actualPort}/api/v1`,
    port: actualPort,
    apiKey,
    requests: () => [...state.requests],
    calls: () =>
      state.calls.all().map((call) => ({
        callId: call.callId,
        scenario: call.scenario,
        toPhoneNumber: call.input.to_phone_number,
        objective: call.input.objective,
        ...(call.input.business_name !== undefined && { businessName: call.input.business_name }),
        ...(call.input.website !== undefined && { website: call.input.website }),
        ...(call.idempotencyKey !== undefined && { idempotencyKey: call.idempotencyKey }),
        createdAt: call.createdAt,
        status: state.stateOf(call).status,
        reads: call.reads,
      })),
    setCredits: (n) => {
      check(isCredits(n), 'credits must be a non-negative integer or Infinity');
      state.credits = n;
    },
    credits: () => state.credits,
    faults: state.faults,
    holdCreates: (ms) => state.waits.hold(ms),
    releaseCreates: () => state.waits.release(),
    setIdempotency: (mode) => {
      checkIdempotency(mode);
      state.idempotency = mode;
    },
    setHostile: (next) => {
      state.hostility = hostileSetOf(next);
    },
    stats: () => structuredClone(state.stats),
    dialsByNumber: () => dialsByNumber(state.calls.all()),
    redialedNumbers: () =>
      Object.fromEntries(Object.entries(dialsByNumber(state.calls.all())).filter(([, dials]) => dials > 1)),
    reset: () => state.reset(),
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((cause) => (cause ? reject(cause) : resolve()));
        server.closeAllConnections();
        state.waits.cancelAll();
      });
      return closing;
    },
  };
}

/** A wildcard listen address is not something a client can dial; loopback is. */
function dialableHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
