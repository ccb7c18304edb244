import {
  allHandlersFinished,
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { CampaignActivities, ExistingCall } from '../activities/campaign';
import type { WindowStatus } from '../shared/calling-window';
import { FailureType } from '../shared/failures';
import { searchAttributes } from '../shared/search-attributes';
import {
  type CampaignCarry,
  type CampaignInput,
  type CampaignProgress,
  type CampaignState,
  childWorkflowId,
  type Decision,
  type PauseReason,
  type TargetState,
  targetStateCodes,
} from '../shared/campaign-types';
import { resolveSettings } from './campaign-settings';
import { commentProblem, nameProblem } from '../shared/decisions';
import { placeCallWorkflow } from './place-call';
import {
  approveCampaignUpdate,
  campaignProgressQuery,
  campaignTargetsQuery,
  cancelCampaignUpdate,
  pauseCampaignUpdate,
  rejectCampaignUpdate,
  resumeCampaignUpdate,
} from '../shared/messages';
import type { CallResult } from '../shared/call-types';
import { type ValidTarget } from '../shared/targets';

const { inspectCampaignTargets, loadCampaignTargets } = proxyActivities<CampaignActivities>({
  // A 100,000-row file is parsed and checked in about a second; the margin is for slow disks.
  startToCloseTimeout: '2m',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: [FailureType.InvalidInput] },
});

const { existingCallOutcome } = proxyActivities<CampaignActivities>({
  // It may wait for a call that an earlier run started: up to the call's own timeout and then some.
  startToCloseTimeout: '30m',
  heartbeatTimeout: '30s',
});

const { callingWindows } = proxyLocalActivities<CampaignActivities>({ startToCloseTimeout: '10s' });

const stateCode = targetStateCodes;
const codeState = Object.fromEntries(Object.entries(stateCode).map(([s, c]) => [c, s])) as Record<string, TargetState>;
const finalStates: CampaignState[] = ['completed', 'rejected', 'expired', 'canceled'];
const pageSize = 200;
/** How far beyond the cursor the dialer looks for a target whose calling window is open. */
const lookahead = 200;
/** A target refused with 429 this many times is given up (as failed: RateLimited) instead of retried forever. */
const maxRateLimitedAttempts = 5;

/**
 * Calls a list of targets behind a human approval gate: validate every target, wait for approval, then dial each
 * valid target once as a child `placeCallWorkflow`, at most `maxConcurrentCalls` at a time and `callsPerMinute`
 * creates per window, pausing itself when credits run out.
 *
 * The rate ceiling is a pacer in this workflow rather than a task-queue rate limit: the campaign is the single
 * writer of its own dials, so the limit holds across every worker, is per campaign (a task queue limit would be
 * shared and fixed at worker start), is exact over sliding windows (a task queue limit is a token bucket with
 * bursts), and every wait is a timer visible in history. A 429 caused by other users of the same key slows the
 * campaign down for the contract's 60 s instead of failing it.
 */
export async function callCampaignWorkflow(input: CampaignInput): Promise<CampaignProgress> {
  const info = workflowInfo();
  refuseForgedCarry(input, info);
  // A raw start from another client may pass no argument at all: resolveSettings refuses it with InvalidInput.
  const carried = (input as CampaignInput | undefined)?.carry;
  // New starts get every rule; a campaign started before the stricter ones (its replay, its next runs) keeps its own.
  const strict = !carried && patched('campaign-strict-settings');
  const settings = resolveSettings(input, { strict });
  const c: CampaignCarry = carried ?? {
    campaignId: info.workflowId,
    state: 'validating',
    pilotApproved: false,
    inspection: { sourceHash: '', rows: 0, valid: 0, refused: 0, refusedByReason: {}, refusals: [] },
    cursor: 0,
    targetStates: '',
    redial: [],
    attempts: {},
    skippedByReason: {},
    failedByType: {},
    decisions: [],
    recentCreates: [],
    runs: 1,
    indexed: false,
    childIds: patched('campaign-child-ids-v2') ? 2 : 1,
  };
  const states = c.targetStates.split('');
  const inFlight = new Set<number>();
  const pages = new Map<number, ValidTarget[]>();
  const windows = new Map<string, WindowStatus>();
  let changes = 0;
  let coolDownUntil = 0;
  let approvalDeadline: number | undefined;

  // ---- messages: registered before the first await --------------------------------------------------------------
  setHandler(campaignProgressQuery, () => progress());
  setHandler(campaignTargetsQuery, ({ offset = 0, limit = 1000 } = {}) => ({
    offset,
    total: states.length,
    states: states.slice(offset, offset + Math.min(limit, 10_000)).join(''),
    attempts: Object.fromEntries(Object.entries(c.attempts).filter(([i]) => +i >= offset && +i < offset + limit)),
  }));

  const decide = (action: Decision['action'], by: string, comment?: string) => {
    c.decisions.push({ action, by: by.trim(), at: new Date().toISOString(), ...(comment ? { comment } : {}) });
    changes++;
    showDetails();
  };
  const refuseIf = (problem: string | undefined) => {
    if (problem) throw new Error(problem);
  };
  const requireBy = (by: unknown) => refuseIf(nameProblem(by));
  const requireState = (action: string, ...allowed: CampaignState[]) => {
    if (!allowed.includes(c.state)) throw new Error(`cannot ${action} a campaign that is ${c.state}.`);
  };
  const requireApprover = (by: string) => {
    const approvers = settings.approvers;
    if (approvers && !approvers.includes(by))
      throw new Error(`${by} is not an approver of this campaign (${approvers.join(', ')}).`);
  };

  setHandler(
    approveCampaignUpdate,
    ({ by, comment }) => {
      if (c.gate === 'pilot') c.pilotApproved = true;
      c.gate = undefined;
      enter('running');
      decide('approve', by, comment);
      return progress();
    },
    {
      validator: ({ by, comment }) => {
        requireBy(by);
        refuseIf(commentProblem(comment, 'comment'));
        requireState('approve', 'awaiting_approval');
        requireApprover(by);
      },
    },
  );
  setHandler(
    rejectCampaignUpdate,
    ({ by, reason }) => {
      enter('rejected');
      decide('reject', by, reason);
      return progress();
    },
    {
      validator: ({ by, reason }) => {
        requireBy(by);
        if (typeof reason !== 'string' || !reason.trim()) throw new Error('a rejection needs a reason.');
        refuseIf(commentProblem(reason, 'reason'));
        requireState('reject', 'awaiting_approval');
        requireApprover(by);
      },
    },
  );
  setHandler(
    pauseCampaignUpdate,
    ({ by, reason }) => {
      c.pauseReason = 'operator';
      enter('paused');
      decide('pause', by, reason);
      return progress();
    },
    {
      validator: ({ by, reason }) => (
        requireBy(by),
        refuseIf(commentProblem(reason, 'reason')),
        requireState('pause', 'running')
      ),
    },
  );
  setHandler(
    resumeCampaignUpdate,
    ({ by }) => {
      c.pauseReason = undefined;
      enter('running');
      decide('resume', by);
      return progress();
    },
    { validator: ({ by }) => (requireBy(by), requireState('resume', 'paused')) },
  );
  setHandler(
    cancelCampaignUpdate,
    ({ by, reason }) => {
      enter('canceled');
      decide('cancel', by, reason);
      return progress();
    },
    {
      validator: ({ by, reason }) => (
        requireBy(by),
        refuseIf(commentProblem(reason, 'reason')),
        requireState('cancel', 'validating', 'awaiting_approval', 'running', 'paused')
      ),
    },
  );

  // ---- validation ---------------------------------------------------------------------------------------------------
  if (!carried) {
    const inspected = await inspectCampaignTargets.executeWithOptions({ summary: 'validate targets' }, [
      {
        targetsCsvPath: input.targetsCsvPath,
        targets: input.targets,
        ...(input.callingWindow?.defaultTimezone ? { defaultTimezone: input.callingWindow.defaultTimezone } : {}),
        pace: { calls: settings.callsPerMinute, windowMs: settings.rateWindowMs },
      },
    ]);
    if (!inspected.ok) {
      throw ApplicationFailure.create({
        type: FailureType.InvalidInput,
        message: `The targets cannot be used: ${inspected.message}`,
        nonRetryable: true,
        details: inspected.line ? [{ line: inspected.line }] : [],
      });
    }
    c.inspection = inspected.inspection;
    if (inspected.inlineValid) c.inlineValid = inspected.inlineValid;
    for (let i = 0; i < inspected.inspection.valid; i++) states.push(stateCode.pending);
    c.indexed = inspected.indexed;
    if (inspected.gated) c.gated = true;
    if (c.state === 'validating') {
      c.gate = 'launch';
      enter(inspected.inspection.valid === 0 ? 'completed' : 'awaiting_approval');
    }
  }
  index();

  // ---- the story ----------------------------------------------------------------------------------------------------
  while (!finalStates.includes(c.state)) {
    if (c.state === 'awaiting_approval') {
      await approvalGate();
      continue;
    }
    let wakeAt = Number.POSITIVE_INFINITY;
    if (c.state === 'running' && !historyFull()) wakeAt = await dialWhatCan();
    if (historyFull() && inFlight.size === 0) break;
    if (c.state === 'running' && allConcluded()) {
      enter('completed');
      break;
    }
    if (c.state === 'running' && pilotDone()) {
      c.gate = 'pilot';
      enter('awaiting_approval');
      continue;
    }
    const seen = changes;
    const timeout = Number.isFinite(wakeAt) ? Math.max(1, wakeAt - Date.now()) : undefined;
    if (timeout === undefined) await condition(() => changes !== seen);
    else await condition(() => changes !== seen, timeout, { summary: waitSummary(timeout) });
  }

  if (!finalStates.includes(c.state)) {
    // Continue-as-new with nothing in flight, once every update has answered, so no message is lost.
    await condition(allHandlersFinished);
    c.targetStates = states.join('');
    c.runs++;
    return continueAsNew<typeof callCampaignWorkflow>({ ...input, targets: undefined, carry: c });
  }

  // Calls in flight cannot be hung up: they are followed to their end and reported.
  await condition(() => inFlight.size === 0);
  const skipReason = c.state === 'completed' ? 'not_dialed' : c.state;
  for (let i = 0; i < states.length; i++) {
    if (states[i] === stateCode.pending) markSkipped(i, skipReason);
  }
  showDetails();
  await condition(allHandlersFinished);
  return progress();

  // ---- helpers (closures over the campaign's state) -----------------------------------------------------------------

  function enter(state: CampaignState): void {
    c.state = state;
    changes++;
    index();
    showDetails();
  }

  function index(): void {
    if (c.indexed) upsertSearchAttributes([{ key: searchAttributes.campaignState, value: c.state }]);
  }

  async function approvalGate(): Promise<void> {
    approvalDeadline = Date.now() + settings.approvalTimeoutMs;
    showDetails();
    const decided = await condition(() => c.state !== 'awaiting_approval', settings.approvalTimeoutMs, {
      summary: `awaiting ${c.gate === 'pilot' ? 'pilot ' : ''}approval (${settings.approvalTimeout})`,
    });
    approvalDeadline = undefined;
    if (!decided) {
      decide('expire', 'system', `no decision within ${settings.approvalTimeout}`);
      enter('expired');
    }
  }

  /** Starts every call it may now; returns when it must wait (a pacer or window timer, or a free slot). */
  async function dialWhatCan(): Promise<number> {
    for (;;) {
      if (c.state !== 'running' || inFlight.size >= settings.maxConcurrentCalls || pilotLimitReached()) {
        return Number.POSITIVE_INFINITY;
      }
      const now = Date.now();
      if (now < coolDownUntil) return coolDownUntil;
      const paceAt = nextCreateAllowedAt(now);
      if (paceAt > now) return paceAt;
      const next = await nextTarget(now);
      if (next === undefined) return Number.POSITIVE_INFINITY;
      if (typeof next === 'number') return next;
      if (c.state !== 'running') return Number.POSITIVE_INFINITY;
      dial(next.target, next.attempt);
    }
  }

  /**
   * The pacer: at most `callsPerMinute` creates in any window, with a margin for the child's start latency. With the
   * key's dial gate (every worker of this version), the gate holds the campaign to its callsPerMinute at the moment
   * each create is sent, and shares the key with everyone else: this pacer then stands aside.
   */
  function nextCreateAllowedAt(now: number): number {
    if (c.gated) return now;
    const window = settings.rateWindowMs + settings.rateMarginMs;
    c.recentCreates = c.recentCreates.filter((t) => t > now - window);
    if (c.recentCreates.length < settings.callsPerMinute) return now;
    return c.recentCreates[c.recentCreates.length - settings.callsPerMinute]! + window;
  }

  /** The next target to dial, or the time at which one will be dialable, or undefined when none is left. */
  async function nextTarget(now: number): Promise<{ target: ValidTarget; attempt: number } | number | undefined> {
    let wakeAt = Number.POSITIVE_INFINITY;
    for (let i = 0; i < c.redial.length; i++) {
      const entry = c.redial[i]!;
      const target = await targetAt(entry.index);
      const opensAt = await windowOpensAt(target, now);
      if (opensAt === 'never') {
        c.redial.splice(i--, 1);
        markSkipped(entry.index, 'no_timezone');
      } else if (opensAt <= now) {
        c.redial.splice(i, 1);
        return { target, attempt: entry.attempt };
      } else wakeAt = Math.min(wakeAt, opensAt);
    }
    while (c.cursor < states.length) {
      const target = await targetAt(c.cursor);
      if (states[c.cursor] !== stateCode.pending) {
        c.cursor++;
        continue;
      }
      const opensAt = await windowOpensAt(target, now);
      if (opensAt === 'never') {
        markSkipped(c.cursor++, 'no_timezone');
        continue;
      }
      if (opensAt <= now) return { target, attempt: (c.attempts[c.cursor++] ?? 0) + 1 };
      // Closed in this target's zone: set it aside and look further for a zone where it is daytime.
      if (c.redial.length >= lookahead) return Math.min(wakeAt, opensAt);
      c.redial.push({ index: c.cursor++, attempt: 1 });
      wakeAt = Math.min(wakeAt, opensAt);
    }
    return Number.isFinite(wakeAt) ? wakeAt : undefined;
  }

  async function targetAt(i: number): Promise<ValidTarget> {
    if (c.inlineValid) return c.inlineValid[i]!;
    const first = i - (i % pageSize);
    let page = pages.get(first);
    if (!page) {
      page = await loadCampaignTargets.executeWithOptions(
        { summary: `load targets ${first + 1}–${first + pageSize}` },
        [{ targetsCsvPath: input.targetsCsvPath!, sourceHash: c.inspection.sourceHash, from: first, count: pageSize }],
      );
      pages.clear(); // one page at a time keeps the worker's memory flat for any list size
      pages.set(first, page);
    }
    return page[i - first]!;
  }

  /** When the target's calling window opens (now or later), or 'never' when its zone is unknown (fail closed). */
  async function windowOpensAt(target: ValidTarget, now: number): Promise<number | 'never'> {
    const window = input.callingWindow;
    if (!window) return now;
    const zone = target.target.timezone ?? window.defaultTimezone;
    if (!zone) return 'never';
    let status = windows.get(zone);
    if (!status || status.changesAt <= now) {
      const fresh = await callingWindows.executeWithOptions({ summary: `calling window in ${zone}` }, [
        { zones: [zone], window, at: now },
      ]);
      status = fresh[zone]!;
      windows.set(zone, status);
    }
    return status.open ? now : status.changesAt;
  }

  function dial(vt: ValidTarget, attempt: number): void {
    const i = vt.index;
    if (attempt > 1) c.attempts[i] = attempt;
    states[i] = stateCode.in_flight;
    inFlight.add(i);
    c.recentCreates.push(Date.now());
    changes++;
    void follow(vt, attempt).finally(() => {
      inFlight.delete(i);
      changes++;
      showDetails();
    });
    showDetails();
  }

  async function follow(vt: ValidTarget, attempt: number): Promise<void> {
    const workflowId = childWorkflowId(c.campaignId, vt.key, attempt, c.childIds ?? 1);
    const { id: _id, timezone: _tz, ...call } = vt.target;
    let outcome: ExistingCall;
    try {
      const child = await startChild(placeCallWorkflow, {
        workflowId,
        args: [
          {
            ...call,
            ...(settings.timing ? { timing: settings.timing } : {}),
            ...(c.gated ? { dialSlot: dialSlot() } : {}),
          },
        ],
        // The API cannot hang up a call: if the campaign ends, its calls are still followed to their end.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        memo: {
          objective: call.objective,
          campaign: input.name,
          ...(call.businessName ? { businessName: call.businessName } : {}),
        },
        staticSummary: `Campaign ${input.name}: ${vt.key}${call.businessName ? ` (${call.businessName})` : ''}`,
        ...(c.indexed ? { typedSearchAttributes: [{ key: searchAttributes.campaignId, value: c.campaignId }] } : {}),
      });
      outcome = { result: await child.result() };
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        // An earlier run of this campaign id dialed this target: read its outcome, never dial it again.
        outcome = await existingCallOutcome.executeWithOptions({ summary: `outcome of existing ${workflowId}` }, [
          workflowId,
          c.campaignId,
        ]);
      } else if (error instanceof ChildWorkflowFailure && error.cause instanceof ApplicationFailure) {
        outcome = { failureType: error.cause.type ?? 'Unknown', message: error.cause.message };
      } else {
        outcome = { failureType: 'Unknown', message: error instanceof Error ? error.message : String(error) };
      }
    }
    conclude(vt.index, attempt, outcome);
  }

  /** What the campaign's calls ask of the key's gate: the campaign's share, within its own callsPerMinute. */
  function dialSlot() {
    return {
      campaignId: c.campaignId,
      ...(settings.share === 1 ? {} : { share: settings.share }),
      cap: { count: settings.callsPerMinute, windowMs: settings.rateWindowMs },
    };
  }

  function conclude(i: number, attempt: number, outcome: ExistingCall): void {
    if ('conflict' in outcome) {
      // The id is taken by a workflow this campaign did not start: its outcome is not this target's.
      markSkipped(i, 'id_conflict');
      return;
    }
    if ('result' in outcome) {
      const result: CallResult = outcome.result;
      if (result.waitedForSlotMs) c.waitedForSlotMs = (c.waitedForSlotMs ?? 0) + result.waitedForSlotMs;
      states[i] = stateCode[result.outcome];
      if (result.creditsRemaining !== undefined) {
        c.creditsRemaining = result.creditsRemaining;
        if (result.creditsRemaining <= 0) autoPause('insufficient_credits');
      }
      return;
    }
    switch (outcome.failureType) {
      // No call was created: the target is dialed again later, under a new attempt id.
      case FailureType.InsufficientCredits:
        states[i] = stateCode.pending;
        c.redial.push({ index: i, attempt: attempt + 1 });
        c.creditsRemaining = 0;
        autoPause('insufficient_credits');
        return;
      case FailureType.Unauthorized:
        states[i] = stateCode.pending;
        c.redial.push({ index: i, attempt: attempt + 1 });
        autoPause('unauthorized');
        return;
      case FailureType.RateLimited:
        // Someone else shares the key's limit: cool down for the contract's 60 s and dial the target again later.
        coolDownUntil = Date.now() + settings.rateLimitWaitMs;
        if (attempt < maxRateLimitedAttempts) {
          states[i] = stateCode.pending;
          c.redial.push({ index: i, attempt: attempt + 1 });
          return;
        }
        break;
      case FailureType.CallCanceled:
        states[i] = stateCode.canceled;
        return;
      case FailureType.CallTimedOut:
        states[i] = stateCode.timed_out;
        return;
      case FailureType.CallOutcomeUnknown:
        // The create may have dialed: never again automatically. The report lists it for a person to look up.
        states[i] = stateCode.unknown;
        return;
    }
    states[i] = stateCode.failed;
    c.failedByType[outcome.failureType] = (c.failedByType[outcome.failureType] ?? 0) + 1;
  }

  function autoPause(reason: PauseReason): void {
    if (c.state !== 'running') return;
    c.pauseReason = reason;
    enter('paused');
    decide('auto_pause', 'system', reason);
  }

  function markSkipped(i: number, reason: string): void {
    states[i] = stateCode.skipped;
    c.skippedByReason[reason] = (c.skippedByReason[reason] ?? 0) + 1;
  }

  function concludedCount(): number {
    return states.length - count(stateCode.pending) - count(stateCode.in_flight);
  }

  function allConcluded(): boolean {
    return inFlight.size === 0 && c.redial.length === 0 && concludedCount() === states.length;
  }

  function pilotLimitReached(): boolean {
    return settings.pilotCalls > 0 && !c.pilotApproved && concludedCount() + inFlight.size >= settings.pilotCalls;
  }

  function pilotDone(): boolean {
    return (
      settings.pilotCalls > 0 &&
      !c.pilotApproved &&
      inFlight.size === 0 &&
      concludedCount() >= Math.min(settings.pilotCalls, states.length)
    );
  }

  /** Bounded history: continue-as-new well before Temporal's 50k events / 50 MB. */
  function historyFull(): boolean {
    const { historyLength, historySize } = workflowInfo();
    return historyLength > settings.historyLimit || historySize > 20 * 1024 * 1024;
  }

  function count(code: string): number {
    let n = 0;
    for (const s of states) if (s === code) n++;
    return n;
  }

  function counts(): Record<TargetState, number> {
    const result = Object.fromEntries(Object.keys(stateCode).map((s) => [s, 0])) as Record<TargetState, number>;
    for (const s of states) result[codeState[s]!]++;
    return result;
  }

  function progress(): CampaignProgress {
    const all = counts();
    const { sourceHash: _hash, ...validation } = c.inspection;
    const remaining = all.pending + all.in_flight;
    const windowsLeft = Math.ceil(all.pending / settings.callsPerMinute);
    return {
      campaignId: c.campaignId,
      name: input.name,
      state: c.state,
      ...(c.pauseReason && c.state === 'paused' ? { pauseReason: c.pauseReason } : {}),
      ...(c.state === 'awaiting_approval' && c.gate ? { gate: c.gate } : {}),
      counts: all,
      skippedByReason: { ...c.skippedByReason },
      failedByType: { ...c.failedByType },
      validation,
      creditsNeeded: c.inspection.valid,
      ...(c.creditsRemaining === undefined ? {} : { creditsRemaining: c.creditsRemaining }),
      ...(settings.pilotCalls > 0
        ? { pilot: { calls: settings.pilotCalls, ...(c.pilotApproved || c.gate === 'pilot' ? { counts: all } : {}) } }
        : {}),
      decisions: [...c.decisions],
      ...(approvalDeadline ? { approvalDeadline: new Date(approvalDeadline).toISOString() } : {}),
      ...(remaining > 0 && ['running', 'paused'].includes(c.state)
        ? { eta: new Date(Date.now() + windowsLeft * settings.rateWindowMs + settings.callEstimateMs).toISOString() }
        : {}),
      callsPerMinute: settings.callsPerMinute,
      maxConcurrentCalls: settings.maxConcurrentCalls,
      runs: c.runs,
      childIds: c.childIds ?? 1,
      ...(c.gated ? { dialGate: { share: settings.share, waitedForSlotMs: c.waitedForSlotMs ?? 0 } } : {}),
    };
  }

  /** The Web UI's "Current details": the campaign's progress as a small table. */
  function showDetails(): void {
    const all = counts();
    const rows = Object.entries(all)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `| ${s} | ${n} |`);
    const skipped = Object.entries(c.skippedByReason).map(([r, n]) => `| skipped: ${r} | ${n} |`);
    setCurrentDetails(
      [
        `**${input.name}**: ${c.state}${c.pauseReason && c.state === 'paused' ? ` (${c.pauseReason})` : ''}` +
          ` · ${concludedCount()} of ${states.length} concluded · run ${c.runs}`,
        '',
        '| targets | count |',
        '|---|---|',
        ...rows,
        ...skipped,
        `| refused at validation | ${c.inspection.refused} |`,
      ].join('\n'),
    );
  }

  function waitSummary(ms: number): string {
    if (Date.now() < coolDownUntil) return `rate limited: cooling down ${Math.round(ms / 1000)}s`;
    return `next dial in ${ms >= 1000 ? `${Math.round(ms / 1000)}s` : `${ms}ms`}`;
  }
}

/**
 * `carry` is the campaign's own state, handed from one run to the next by continue-as-new: a start that carries it
 * would skip validation and the approval gate. The server marks a run that continued from another; nothing else may
 * carry state, and the state must be this campaign's.
 */
function refuseForgedCarry(input: CampaignInput, info: ReturnType<typeof workflowInfo>): void {
  const carry = (input as { carry?: unknown } | null | undefined)?.carry;
  if (carry === undefined) return;
  const continued = info.continuedFromExecutionRunId !== undefined;
  const own = typeof carry === 'object' && carry !== null && (carry as CampaignCarry).campaignId === info.workflowId;
  if (continued && own) return;
  throw ApplicationFailure.create({
    type: FailureType.InvalidInput,
    message:
      'The campaign cannot start: `carry` is set by the campaign itself when it continues as new, never by a client.',
    nonRetryable: true,
    details: [{ field: 'carry' }],
  });
}
