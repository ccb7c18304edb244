import type { Behaviour } from './scenarios';

export type CallStatus = 'queued' | 'dialing' | 'in_progress' | 'completed' | 'failed' | 'canceled';

/** How long each non-terminal status lasts in `time` mode, in API milliseconds (before `timeScale`). */
export interface Durations {
  /** @default 3000 */
  queuedMs: number;
  /** @default 5000 */
  dialingMs: number;
  /** @default 26000 */
  inProgressMs: number;
}

export const defaultDurations: Durations = { queuedMs: 3000, dialingMs: 5000, inProgressMs: 26000 };

/** Late enrichment follows completion by this much in `time` mode (before `timeScale`)... */
const lateEnrichmentMs = 3000;
/** ...or by this many GETs in `polls` mode: the contract tells clients to poll twice more. */
const lateEnrichmentPolls = 2;

/**
 * `polls`: one lifecycle step per GET, so Temporal's time-skipping tests (where wall time stands still) progress.
 * `time`: statuses follow the wall clock from creation.
 */
export type Progress = 'polls' | 'time';

export interface Lifecycle {
  readonly progress: Progress;
  /** Durations already multiplied by `timeScale`: these are sim-clock milliseconds. */
  readonly durations: Durations;
  readonly lateEnrichmentMs: number;
}

export function lifecycleOf(progress: Progress, durations: Durations, timeScale: number): Lifecycle {
  return {
    progress,
    durations: {
      queuedMs: durations.queuedMs * timeScale,
      dialingMs: durations.dialingMs * timeScale,
      inProgressMs: durations.inProgressMs * timeScale,
    },
    lateEnrichmentMs: lateEnrichmentMs * timeScale,
  };
}

/** The clock-dependent part of a call. */
export interface CallProgress {
  readonly createdAt: number;
  /** GETs that moved the call along (counted in `polls` mode). */
  readonly steps: number;
}

export interface CallState {
  readonly status: CallStatus;
  /** Summary and transcript are available. */
  readonly enriched: boolean;
}

/** Where a call stands: 0 queued, 1 dialing, 2 in progress, 3 ended; and whether late enrichment has arrived. */
interface Position {
  readonly stage: 0 | 1 | 2 | 3;
  readonly lateEnrichmentArrived: boolean;
}

export function stateOf(call: CallProgress, behaviour: Behaviour, lifecycle: Lifecycle, now: number): CallState {
  const { stage, lateEnrichmentArrived } =
    lifecycle.progress === 'polls' ? pollPosition(call.steps) : timePosition(now - call.createdAt, lifecycle);
  const { ending } = behaviour;
  if (stage === 0) return { status: 'queued', enriched: false };
  if (stage === 1) return { status: 'dialing', enriched: false };
  if (stage === 2 || ending === null) return { status: 'in_progress', enriched: false };
  if (ending.status !== 'completed') return { status: ending.status, enriched: false };
  const enriched =
    behaviour.enrichment === 'atCompletion' || (behaviour.enrichment === 'late' && lateEnrichmentArrived);
  return { status: 'completed', enriched };
}

function pollPosition(steps: number): Position {
  const stage = steps >= 3 ? 3 : steps <= 0 ? 0 : steps === 1 ? 1 : 2;
  return { stage, lateEnrichmentArrived: steps >= 3 + lateEnrichmentPolls };
}

function timePosition(elapsedMs: number, { durations, lateEnrichmentMs }: Lifecycle): Position {
  const dialingAt = durations.queuedMs;
  const inProgressAt = dialingAt + durations.dialingMs;
  const endedAt = inProgressAt + durations.inProgressMs;
  const stage = elapsedMs >= endedAt ? 3 : elapsedMs >= inProgressAt ? 2 : elapsedMs >= dialingAt ? 1 : 0;
  return { stage, lateEnrichmentArrived: elapsedMs >= endedAt + lateEnrichmentMs };
}
