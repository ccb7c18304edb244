// A campaign's state and rules, as a plain class (the shape of Temporal's safe-message-handlers sample): the target
// states, the cursor and redial queue, the decisions and their validation, the pacer, the counts and progress().
// It knows nothing of Temporal. What it needs from outside (a page of targets, a calling window's status, the
// clock) it asks its ports, so unit tests drive it in milliseconds and the workflow in ./campaign.ts only carries
// messages to it, starts the children it asks for and sleeps until it can do more.
import type { ExistingCall } from '../activities/campaign';
import type { CallResult, CampaignDialSlot } from '../shared/call-types';
import type { CallingWindow, WindowStatus } from '../shared/calling-window';

/** Local-time bounds: a campaign's callingWindow, or a target's hours. */
type ClockWindow = Pick<CallingWindow, 'start' | 'end'>;
import {
  type CampaignCarry,
  type LadderAttempt,
  type CampaignInput,
  type CampaignProgress,
  type CampaignReportQuery,
  type CampaignSource,
  type CampaignState,
  type CampaignTargetsPage,
  childWorkflowId,
  type Decision,
  type PauseReason,
  type TargetState,
  targetStateCodes as stateCode,
  targetStateOfCode,
} from '../shared/campaign-types';
import { type DecisionInput, type DecisionName, decisionProblem, decisionRules } from '../shared/decisions';
import { FailureType } from '../shared/failures';
import type { ValidTarget } from '../shared/targets';
import type { Settings } from './campaign-settings';

/** What the machine asks of the world around it. */
export interface CampaignPorts {
  /** A page of a CSV list's valid targets, from `first`. */
  loadPage(first: number, count: number): Promise<ValidTarget[]>;
  /** Whether `window` is open in `zone` at `at`, and when that changes. */
  windowStatus(zone: string, at: number, window: ClockWindow): Promise<WindowStatus>;
  /** The campaign entered a state (the workflow indexes it). */
  entered(state: CampaignState): void;
  /** Something visible changed (the workflow shows the details). */
  changed(): void;
  now(): number;
}

/** A call the machine wants placed now. */
export interface Dial {
  target: ValidTarget;
  attempt: number;
  workflowId: string;
  /** What the call asks of the key's dial gate, when the workers run it. */
  dialSlot?: CampaignDialSlot;
}

/** Where the loop goes after dialing what it could. */
export type Review = 'completed' | 'pilot' | 'wait';

/** Why a target is skipped before it is dialed, by its calling hours. */
type SkipReason = 'no_timezone' | 'outside_calling_hours';

export const finalStates: readonly CampaignState[] = ['completed', 'rejected', 'expired', 'canceled'];
const pageSize = 200;
/** How far beyond the cursor the dialer looks for a target whose calling window is open. */
const lookahead = 200;
/** A target refused with 429 this many times is given up (as failed: RateLimited) instead of retried forever. */
const maxRateLimitedAttempts = 5;

export class CampaignMachine {
  /** Bumped on every change: the workflow waits for it to move. */
  version = 0;
  private readonly states: string[];
  /** The targets whose calls are in flight, and whether each call is a redial of the retry ladder. */
  private readonly inFlight = new Map<number, boolean>();
  private readonly pages = new Map<number, ValidTarget[]>();
  private readonly windows = new Map<string, WindowStatus>();
  private coolDownUntil = 0;
  private approvalDeadline: number | undefined;

  /** A new campaign's carry: nothing validated, nothing dialed. */
  static fresh(campaignId: string, childIds: 1 | 2): CampaignCarry {
    return {
      campaignId,
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
      childIds,
    };
  }

  constructor(
    private readonly input: CampaignInput,
    private readonly settings: Settings,
    private readonly c: CampaignCarry,
    private readonly ports: CampaignPorts,
  ) {
    this.states = c.targetStates.split('');
  }

  get state(): CampaignState {
    return this.c.state;
  }

  get indexed(): boolean {
    return this.c.indexed;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  isFinal(): boolean {
    return finalStates.includes(this.c.state);
  }

  // ---- validation -----------------------------------------------------------------------------------------------

  /** The validation activity's verdict on a new campaign: its targets, then the approval gate (or done: none). */
  validated(v: {
    inspection: CampaignCarry['inspection'];
    inlineValid?: ValidTarget[];
    indexed: boolean;
    gated?: boolean;
  }) {
    this.c.inspection = v.inspection;
    if (v.inlineValid) this.c.inlineValid = v.inlineValid;
    for (let i = 0; i < v.inspection.valid; i++) this.states.push(stateCode.pending);
    this.c.indexed = v.indexed;
    if (v.gated) this.c.gated = true;
    if (this.c.state === 'validating') {
      this.c.gate = 'launch';
      this.enter(v.inspection.valid === 0 ? 'completed' : 'awaiting_approval');
    }
  }

  // ---- decisions --------------------------------------------------------------------------------------------------

  /** Throws the reason a decision cannot be made now (the update's validator): a refused one never enters history. */
  validate(name: DecisionName, input: DecisionInput | undefined): void {
    const problem = decisionProblem(name, input, this.c.state, this.settings.approvers);
    if (problem) throw new Error(problem);
  }

  /** Makes a validated decision: its own effect, the state the table leads to, and a line in the audit trail. */
  decide(name: DecisionName, input: DecisionInput): CampaignProgress {
    const rule = decisionRules[name];
    if (name === 'approve') {
      if (this.c.gate === 'pilot') this.c.pilotApproved = true;
      this.c.gate = undefined;
    } else if (name === 'pause') this.c.pauseReason = 'operator';
    else if (name === 'resume') this.c.pauseReason = undefined;
    this.enter(rule.to);
    this.record(name, input.by, rule.text && input[rule.text.field]);
    return this.progress();
  }

  /** Starts the approval wait: its deadline shows in progress until `approvalEnded`. */
  awaitApproval(): { timeoutMs: number; summary: string } {
    this.approvalDeadline = this.ports.now() + this.settings.approvalTimeoutMs;
    this.ports.changed();
    return {
      timeoutMs: this.settings.approvalTimeoutMs,
      summary: `awaiting ${this.c.gate === 'pilot' ? 'pilot ' : ''}approval (${this.settings.approvalTimeout})`,
    };
  }

  approvalEnded(decided: boolean): void {
    this.approvalDeadline = undefined;
    if (!decided) {
      this.record('expire', 'system', `no decision within ${this.settings.approvalTimeout}`);
      this.enter('expired');
    }
  }

  // ---- dialing ----------------------------------------------------------------------------------------------------

  /**
   * The next call to place now, or the time at which to look again (infinity: when something changes). Marks the
   * target in flight: the workflow must start its call and report the outcome to `concluded`, then `settled`.
   */
  async nextDial(): Promise<Dial | number> {
    const s = this.settings;
    if (this.c.state !== 'running' || this.inFlight.size >= s.maxConcurrentCalls || this.pilotLimitReached()) {
      return Number.POSITIVE_INFINITY;
    }
    const now = this.ports.now();
    if (now < this.coolDownUntil) return this.coolDownUntil;
    const paceAt = this.nextCreateAllowedAt(now);
    if (paceAt > now) return paceAt;
    const next = await this.nextTarget(now);
    if (next === undefined) return Number.POSITIVE_INFINITY;
    if (typeof next === 'number') return next;
    // A decision may have arrived while a page or a window was read.
    if (this.c.state !== 'running') return Number.POSITIVE_INFINITY;
    return this.dialing(next.target, next.attempt, next.ladder);
  }

  /** A started call's outcome (its result, its failure, or the outcome of an earlier run's call of the same id). */
  concluded(i: number, attempt: number, outcome: ExistingCall): void {
    const c = this.c;
    const ladder = this.inFlight.get(i) === true;
    if ('conflict' in outcome) {
      // The id is taken by a workflow this campaign did not start: its outcome is not this target's.
      this.markSkipped(i, 'id_conflict');
      return;
    }
    if ('result' in outcome) {
      const result: CallResult = outcome.result;
      if (result.waitedForSlotMs) c.waitedForSlotMs = (c.waitedForSlotMs ?? 0) + result.waitedForSlotMs;
      this.callEnded(i, attempt, result.outcome, result.callId);
      if (result.creditsRemaining !== undefined) {
        c.creditsRemaining = result.creditsRemaining;
        if (result.creditsRemaining <= 0) this.autoPause('insufficient_credits');
      }
      return;
    }
    switch (outcome.failureType) {
      // No call was created: the target is dialed again later, under a new attempt id.
      case FailureType.InsufficientCredits:
        this.redial(i, attempt, ladder);
        c.creditsRemaining = 0;
        this.autoPause('insufficient_credits');
        return;
      case FailureType.Unauthorized:
        this.redial(i, attempt, ladder);
        this.autoPause('unauthorized');
        return;
      case FailureType.ContactStoreUnavailable:
        // The policy could not be checked, so nothing was sent: the target waits for an operator's resume.
        this.redial(i, attempt, ladder);
        this.autoPause('contact_store_unavailable');
        return;
      case FailureType.RateLimited:
        // Someone else shares the key's limit: cool down for the contract's 60 s and dial the target again later.
        this.coolDownUntil = this.ports.now() + this.settings.rateLimitWaitMs;
        if (attempt < maxRateLimitedAttempts) {
          this.redial(i, attempt, ladder);
          return;
        }
        break;
      case FailureType.CallCanceled:
        this.states[i] = stateCode.canceled;
        return;
      case FailureType.CallTimedOut:
        this.callEnded(i, attempt, 'timed_out', outcome.callId);
        return;
      case FailureType.CallFailed:
        // A call AgentPhone placed and reports failed (no answer, busy): the ladder may call again.
        if (this.callEnded(i, attempt, 'failed', outcome.callId)) {
          c.failedByType[outcome.failureType] = (c.failedByType[outcome.failureType] ?? 0) + 1;
        }
        return;
      case FailureType.CallOutcomeUnknown:
        // The create may have dialed: never again automatically. The report lists it for a person to look up.
        this.states[i] = stateCode.unknown;
        return;
      case FailureType.FrequencyCapped:
        // Called as often as the policy allows: dialed again (a new attempt, a new call id) once the cap lets it.
        if ('allowedAt' in outcome && outcome.allowedAt !== undefined) {
          this.states[i] = stateCode.pending;
          (c.deferred ??= []).push({
            index: i,
            attempt: attempt + 1,
            notBefore: outcome.allowedAt,
            ...(ladder ? { ladder: true as const } : {}),
          });
          return;
        }
        break;
      case FailureType.DoNotCall:
        // Listed after the campaign was approved: checked again at dial time, never called.
        this.markSkipped(i, 'do_not_call');
        return;
    }
    this.states[i] = stateCode.failed;
    c.failedByType[outcome.failureType] = (c.failedByType[outcome.failureType] ?? 0) + 1;
  }

  /**
   * A placed call of target `i` ended in `state`: the target's state, unless its retry ladder calls it again. A
   * target that enters the ladder keeps every call (when, how, call id) for the report. True when the state is final.
   */
  private callEnded(i: number, attempt: number, state: TargetState, callId: string | undefined): boolean {
    const c = this.c;
    const retry = this.settings.retry;
    const earlier = c.ladders?.[i];
    const calls = (earlier?.length ?? 0) + 1;
    const again =
      retry !== undefined &&
      (retry.on as readonly string[]).includes(state) &&
      calls < retry.maxAttempts &&
      ['running', 'paused'].includes(c.state);
    if (again || earlier) {
      const entry: LadderAttempt = {
        attempt,
        at: new Date(this.ports.now()).toISOString(),
        state,
        ...(callId ? { callId } : {}),
      };
      ((c.ladders ??= {})[i] ??= []).push(entry);
    }
    if (!again) {
      this.states[i] = stateCode[state];
      return true;
    }
    // The ladder's next rung: a durable wait (the workflow's timer), then the calling window and the caps as always.
    const delay = retry.delaysMs[Math.min(calls - 1, retry.delaysMs.length - 1)]!;
    this.states[i] = stateCode.pending;
    (c.deferred ??= []).push({ index: i, attempt: attempt + 1, notBefore: this.ports.now() + delay, ladder: true });
    return false;
  }

  /** The call of target `i` is over (concluded or not): its slot is free. */
  settled(i: number): void {
    this.inFlight.delete(i);
    this.changed();
  }

  /** After dialing what it could: the campaign may be done, or due for the pilot's approval. */
  review(): Review {
    if (this.c.state !== 'running') return 'wait';
    if (this.allConcluded()) {
      this.enter('completed');
      return 'completed';
    }
    if (this.pilotDone()) {
      this.c.gate = 'pilot';
      this.enter('awaiting_approval');
      return 'pilot';
    }
    return 'wait';
  }

  /** The campaign is over: the targets never dialed are skipped, with the reason its state gives. */
  skipPending(): void {
    const reason = this.c.state === 'completed' ? 'not_dialed' : this.c.state;
    for (let i = 0; i < this.states.length; i++) {
      if (this.states[i] === stateCode.pending) this.markSkipped(i, reason);
    }
    this.ports.changed();
  }

  /** What continue-as-new hands to the next run. */
  carry(): CampaignCarry {
    return { ...this.c, targetStates: this.states.join(''), runs: this.c.runs + 1 };
  }

  /** The summary of the timer the campaign sleeps on: why it waits `ms`, when a rule of its own says why. */
  waitSummary(ms: number): string {
    const now = this.ports.now();
    const span = ms >= 1000 ? `${Math.round(ms / 1000)}s` : `${ms}ms`;
    if (now < this.coolDownUntil) return `rate limited: cooling down ${Math.round(ms / 1000)}s`;
    // The first deferred target due when the timer fires: the wait is the contact policy's, or the retry ladder's.
    const due = this.c.deferred?.find((d) => d.notBefore === now + ms);
    const until = new Date(now + ms).toISOString();
    if (due?.ladder) return `retry ladder: next call of a target in ${span} (${until})`;
    if (due) return `held by the contact policy's frequency cap: next dial in ${span} (${until})`;
    return `next dial in ${span}`;
  }

  // ---- what it shows ----------------------------------------------------------------------------------------------

  progress(): CampaignProgress {
    const c = this.c;
    const s = this.settings;
    const all = this.counts();
    const { sourceHash: _hash, ...validation } = c.inspection;
    const remaining = all.pending + all.in_flight;
    const windowsLeft = Math.ceil(all.pending / s.callsPerMinute);
    const source = this.source();
    return {
      campaignId: c.campaignId,
      name: this.input.name,
      state: c.state,
      ...(c.pauseReason && c.state === 'paused' ? { pauseReason: c.pauseReason } : {}),
      ...(c.state === 'awaiting_approval' && c.gate ? { gate: c.gate } : {}),
      counts: all,
      skippedByReason: { ...c.skippedByReason },
      failedByType: { ...c.failedByType },
      validation,
      creditsNeeded: c.inspection.valid,
      ...(c.creditsRemaining === undefined ? {} : { creditsRemaining: c.creditsRemaining }),
      ...(s.pilotCalls > 0
        ? { pilot: { calls: s.pilotCalls, ...(c.pilotApproved || c.gate === 'pilot' ? { counts: all } : {}) } }
        : {}),
      decisions: [...c.decisions],
      ...(this.approvalDeadline ? { approvalDeadline: new Date(this.approvalDeadline).toISOString() } : {}),
      ...(remaining > 0 && ['running', 'paused'].includes(c.state)
        ? { eta: new Date(this.ports.now() + windowsLeft * s.rateWindowMs + s.callEstimateMs).toISOString() }
        : {}),
      callsPerMinute: s.callsPerMinute,
      maxConcurrentCalls: s.maxConcurrentCalls,
      runs: c.runs,
      childIds: c.childIds ?? 1,
      ...waiting(
        'deferred',
        c.deferred?.filter((d) => !d.ladder),
      ),
      ...waiting(
        'retrying',
        c.deferred?.filter((d) => d.ladder),
      ),
      ...(c.gated ? { dialGate: { share: s.share, waitedForSlotMs: c.waitedForSlotMs ?? 0 } } : {}),
      ...(source ? { source } : {}),
    };
  }

  /** A page of the target states (and of an inline list's targets, when asked), with their ladders' calls. */
  targetsPage({ offset = 0, limit = 1000, withTargets = false }: CampaignReportQuery = {}): CampaignTargetsPage {
    const end = offset + Math.min(limit, 10_000);
    return {
      offset,
      total: this.states.length,
      states: this.states.slice(offset, end).join(''),
      attempts: Object.fromEntries(
        Object.entries(this.c.attempts).filter(([i]) => +i >= offset && +i < offset + limit),
      ),
      ...(this.c.ladders
        ? { ladders: Object.fromEntries(Object.entries(this.c.ladders).filter(([i]) => +i >= offset && +i < end)) }
        : {}),
      ...(withTargets && this.c.inlineValid ? { targets: this.c.inlineValid.slice(offset, end) } : {}),
    };
  }

  /** The Web UI's "Current details": the campaign's progress as a small table. */
  details(): string {
    const c = this.c;
    const rows = Object.entries(this.counts())
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `| ${s} | ${n} |`);
    const skipped = Object.entries(c.skippedByReason).map(([r, n]) => `| skipped: ${r} | ${n} |`);
    const retrying = c.deferred?.filter((d) => d.ladder).length ?? 0;
    const deferred = (c.deferred?.length ?? 0) - retrying;
    return [
      `**${this.input.name}**: ${c.state}${c.pauseReason && c.state === 'paused' ? ` (${c.pauseReason})` : ''}` +
        ` · ${this.concludedCount()} of ${this.states.length} concluded · run ${c.runs}`,
      '',
      '| targets | count |',
      '|---|---|',
      ...rows,
      ...skipped,
      ...(deferred ? [`| deferred by the contact policy | ${deferred} |`] : []),
      ...(retrying ? [`| waiting to retry | ${retrying} |`] : []),
      `| refused at validation | ${c.inspection.refused} |`,
    ].join('\n');
  }

  // ---- rules ------------------------------------------------------------------------------------------------------

  private enter(state: CampaignState): void {
    this.c.state = state;
    this.ports.entered(state);
    this.changed();
  }

  private record(action: Decision['action'], by: string, comment?: string): void {
    this.c.decisions.push({
      action,
      by: by.trim(),
      at: new Date(this.ports.now()).toISOString(),
      ...(comment ? { comment } : {}),
    });
    this.changed();
  }

  private changed(): void {
    this.version++;
    this.ports.changed();
  }

  private dialing(vt: ValidTarget, attempt: number, ladder?: true): Dial {
    const c = this.c;
    const i = vt.index;
    if (attempt > 1) c.attempts[i] = attempt;
    this.states[i] = stateCode.in_flight;
    this.inFlight.set(i, ladder === true);
    c.recentCreates.push(this.ports.now());
    this.changed();
    return {
      target: vt,
      attempt,
      workflowId: childWorkflowId(c.campaignId, vt.key, attempt, c.childIds ?? 1),
      ...(c.gated ? { dialSlot: { ...this.dialSlot(), ...(ladder ? { ladder } : {}) } } : {}),
    };
  }

  /** What the campaign's calls ask of the key's gate: the campaign's share, within its own callsPerMinute. */
  private dialSlot(): CampaignDialSlot {
    const s = this.settings;
    return {
      campaignId: this.c.campaignId,
      ...(s.share === 1 ? {} : { share: s.share }),
      cap: { count: s.callsPerMinute, windowMs: s.rateWindowMs },
    };
  }

  /**
   * The pacer: at most `callsPerMinute` creates in any window, with a margin for the child's start latency. With the
   * key's dial gate (every worker of this version), the gate holds the campaign to its callsPerMinute at the moment
   * each create is sent, and shares the key with everyone else: this pacer then stands aside.
   */
  private nextCreateAllowedAt(now: number): number {
    const c = this.c;
    if (c.gated) return now;
    const window = this.settings.rateWindowMs + this.settings.rateMarginMs;
    c.recentCreates = c.recentCreates.filter((t) => t > now - window);
    if (c.recentCreates.length < this.settings.callsPerMinute) return now;
    return c.recentCreates[c.recentCreates.length - this.settings.callsPerMinute]! + window;
  }

  /** The next target to dial, or the time at which one will be dialable, or undefined when none is left. */
  private async nextTarget(
    now: number,
  ): Promise<{ target: ValidTarget; attempt: number; ladder?: true } | number | undefined> {
    const c = this.c;
    let wakeAt = Number.POSITIVE_INFINITY;
    // Deferred targets join the redial queue once their cap allows them (the calling window is checked there).
    for (let i = 0; c.deferred && i < c.deferred.length; i++) {
      const { index, attempt, notBefore, ladder } = c.deferred[i]!;
      if (notBefore <= now) {
        c.deferred.splice(i--, 1);
        c.redial.push({ index, attempt, ...(ladder ? { ladder } : {}) });
      } else wakeAt = Math.min(wakeAt, notBefore);
    }
    for (let i = 0; i < c.redial.length; i++) {
      const entry = c.redial[i]!;
      const target = await this.targetAt(entry.index);
      const opensAt = await this.windowOpensAt(target, now);
      if (typeof opensAt === 'string') {
        c.redial.splice(i--, 1);
        this.markSkipped(entry.index, opensAt);
      } else if (opensAt <= now) {
        c.redial.splice(i, 1);
        return { target, attempt: entry.attempt, ...(entry.ladder ? { ladder: entry.ladder } : {}) };
      } else wakeAt = Math.min(wakeAt, opensAt);
    }
    while (c.cursor < this.states.length) {
      const target = await this.targetAt(c.cursor);
      if (this.states[c.cursor] !== stateCode.pending) {
        c.cursor++;
        continue;
      }
      const opensAt = await this.windowOpensAt(target, now);
      if (typeof opensAt === 'string') {
        this.markSkipped(c.cursor++, opensAt);
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

  private async targetAt(i: number): Promise<ValidTarget> {
    if (this.c.inlineValid) return this.c.inlineValid[i]!;
    const first = i - (i % pageSize);
    let page = this.pages.get(first);
    if (!page) {
      page = await this.ports.loadPage(first, pageSize);
      this.pages.clear(); // one page at a time keeps the worker's memory flat for any list size
      this.pages.set(first, page);
    }
    return page[i - first]!;
  }

  /**
   * When the target may be called (now or later): within its recipient's hours when the campaign applies them (the
   * workers give them with the target, already narrowed by the campaign's callingWindow), else within the
   * callingWindow, else at any time. A reason to skip it instead: `no_timezone` when its zone is unknown (fail
   * closed), `outside_calling_hours` when the callingWindow never meets its hours.
   */
  private async windowOpensAt(target: ValidTarget, now: number): Promise<number | SkipReason> {
    const hours = this.c.recipientHours ? target.hours : undefined;
    if (hours && 'never' in hours) return 'outside_calling_hours';
    const window: ClockWindow | undefined = hours ?? this.input.callingWindow;
    if (!window) return now;
    const zone = target.target.timezone ?? this.input.callingWindow?.defaultTimezone;
    if (!zone) return 'no_timezone';
    const key = hours ? `${zone} ${hours.start}-${hours.end}` : zone;
    let status = this.windows.get(key);
    if (!status || status.changesAt <= now) {
      status = await this.ports.windowStatus(zone, now, hours ? { start: hours.start, end: hours.end } : window);
      this.windows.set(key, status);
    }
    return status.open ? now : status.changesAt;
  }

  private redial(i: number, attempt: number, ladder: boolean): void {
    this.states[i] = stateCode.pending;
    this.c.redial.push({ index: i, attempt: attempt + 1, ...(ladder ? { ladder: true as const } : {}) });
  }

  private autoPause(reason: PauseReason): void {
    if (this.c.state !== 'running') return;
    this.c.pauseReason = reason;
    this.enter('paused');
    this.record('auto_pause', 'system', reason);
  }

  private markSkipped(i: number, reason: string): void {
    this.states[i] = stateCode.skipped;
    this.c.skippedByReason[reason] = (this.c.skippedByReason[reason] ?? 0) + 1;
  }

  private concludedCount(): number {
    return this.states.length - this.count(stateCode.pending) - this.count(stateCode.in_flight);
  }

  private allConcluded(): boolean {
    return (
      this.inFlight.size === 0 &&
      this.c.redial.length === 0 &&
      !this.c.deferred?.length &&
      this.concludedCount() === this.states.length
    );
  }

  private pilotLimitReached(): boolean {
    const s = this.settings;
    return s.pilotCalls > 0 && !this.c.pilotApproved && this.concludedCount() + this.inFlight.size >= s.pilotCalls;
  }

  private pilotDone(): boolean {
    const s = this.settings;
    return (
      s.pilotCalls > 0 &&
      !this.c.pilotApproved &&
      this.inFlight.size === 0 &&
      this.concludedCount() >= Math.min(s.pilotCalls, this.states.length)
    );
  }

  private source(): CampaignSource | undefined {
    const { sourceHash, rows, valid, refused } = this.c.inspection;
    if (!sourceHash) return undefined;
    const counts = { rows, valid, refused };
    return this.input.targetsCsvPath
      ? { kind: 'csv', path: this.input.targetsCsvPath, sha256: sourceHash, ...counts }
      : { kind: 'inline', ...counts };
  }

  private count(code: string): number {
    let n = 0;
    for (const s of this.states) if (s === code) n++;
    return n;
  }

  private counts(): Record<TargetState, number> {
    const result = Object.fromEntries(Object.keys(stateCode).map((s) => [s, 0])) as Record<TargetState, number>;
    for (const s of this.states) result[targetStateOfCode[s]!]++;
    return result;
  }
}

/** Targets waiting in `entries`, and when the first is due: absent when none waits. */
function waiting<K extends 'deferred' | 'retrying'>(
  key: K,
  entries: { notBefore: number }[] | undefined,
): Partial<Record<K, { count: number; nextAt: string }>> {
  if (!entries?.length) return {};
  const nextAt = new Date(Math.min(...entries.map((d) => d.notBefore))).toISOString();
  return { [key]: { count: entries.length, nextAt } } as Partial<Record<K, { count: number; nextAt: string }>>;
}
