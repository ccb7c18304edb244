// The campaign's rules without Temporal: CampaignMachine driven directly, with fake ports, in milliseconds.
// The Temporal tests of the same behaviour stay in campaign.test.ts.
import { describe, expect, it } from 'vitest';
import type { ExistingCall } from '../src/activities/campaign';
import type { CallResult } from '../src/shared/call-types';
import type { CampaignInput, CampaignState } from '../src/shared/campaign-types';
import { type DecisionName, decisionNames } from '../src/shared/decisions';
import type { ValidTarget } from '../src/shared/targets';
import { resolveSettings } from '../src/workflows/campaign-settings';
import { CampaignMachine, type Dial } from '../src/workflows/campaign-machine';

const targets = (n: number): ValidTarget[] =>
  Array.from({ length: n }, (_, index) => ({
    index,
    key: `item-${index}`,
    target: { toPhoneNumber: `+1415555${String(1000 + index)}`, objective: 'Ask about opening hours' },
  }));

const result = (outcome: CallResult['outcome'], extra: Partial<CallResult> = {}): ExistingCall => ({
  result: { callId: 'c', status: 'completed', outcome, ...extra } as CallResult,
});
const failure = (failureType: string): ExistingCall => ({ failureType, message: failureType });

interface Harness {
  machine: CampaignMachine;
  entered: CampaignState[];
  pages: number[];
  clock: { now: number };
  /** Dials everything it may now; returns the dials (or the time to look again, when none). */
  dialAll(): Promise<Dial[]>;
}

function harness(
  n: number,
  options: Partial<CampaignInput> = {},
  { inline = true, validated = true, gated = false } = {},
): Harness {
  const list = targets(n);
  const input: CampaignInput = {
    name: 'Spring check',
    ...(inline ? { targets: [] } : { targetsCsvPath: '/x.csv' }),
    ...options,
  };
  const entered: CampaignState[] = [];
  const pages: number[] = [];
  const clock = { now: Date.UTC(2026, 11, 1, 12) };
  const machine = new CampaignMachine(input, resolveSettings(input), CampaignMachine.fresh('camp-1', 2), {
    loadPage: async (first, count) => {
      pages.push(first);
      return list.slice(first, first + count);
    },
    windowStatus: async (zone, at) => ({ open: zone !== 'Asia/Tokyo', changesAt: at + 3_600_000 }),
    entered: (s) => entered.push(s),
    changed: () => {},
    now: () => clock.now,
  });
  if (validated) {
    machine.validated({
      inspection: { sourceHash: 'abc', rows: n, valid: n, refused: 0, refusedByReason: {}, refusals: [] },
      ...(inline ? { inlineValid: list } : {}),
      indexed: true,
      ...(gated ? { gated } : {}),
    });
  }
  return {
    machine,
    entered,
    pages,
    clock,
    async dialAll() {
      const dials: Dial[] = [];
      for (;;) {
        const next = await machine.nextDial();
        if (typeof next === 'number') return dials;
        dials.push(next);
      }
    },
  };
}

const by = { by: 'dana' };
const approve = (h: Harness) => h.machine.decide('approve', by);
const finish = (h: Harness, dials: Dial[], outcome: ExistingCall = result('achieved')) => {
  for (const d of dials) {
    h.machine.concluded(d.target.index, d.attempt, outcome);
    h.machine.settled(d.target.index);
  }
};

describe('CampaignMachine: decisions', () => {
  const allowed: Record<DecisionName, CampaignState[]> = {
    approve: ['awaiting_approval'],
    reject: ['awaiting_approval'],
    pause: ['running'],
    resume: ['paused'],
    cancel: ['validating', 'awaiting_approval', 'running', 'paused'],
  };
  const everyState: CampaignState[] = [
    'validating',
    'awaiting_approval',
    'running',
    'paused',
    'completed',
    'rejected',
    'expired',
    'canceled',
  ];

  /** A machine brought to `state` by the decisions a person would make. */
  function inState(state: CampaignState): Harness {
    const h = harness(3, {}, { validated: state !== 'validating' });
    if (state === 'validating' || state === 'awaiting_approval') return h;
    if (state === 'rejected') return (h.machine.decide('reject', { by: 'dana', reason: 'no' }), h);
    if (state === 'expired') return (h.machine.approvalEnded(false), h);
    approve(h);
    if (state === 'paused') h.machine.decide('pause', by);
    if (state === 'canceled') h.machine.decide('cancel', by);
    if (state === 'completed') {
      h.machine.decide('pause', by); // nothing in flight: conclude everything by hand
      h.machine.decide('resume', by);
    }
    return h;
  }

  for (const name of decisionNames) {
    for (const state of everyState) {
      const ok = allowed[name].includes(state);
      it(`${name} in ${state}: ${ok ? 'allowed' : 'refused'}`, async () => {
        const h = inState(state);
        if (state === 'completed') {
          finish(h, await h.dialAll());
          expect(h.machine.review()).toBe('completed');
        }
        expect(h.machine.state).toBe(state);
        const input = { by: 'dana', reason: 'a reason' };
        if (!ok) {
          expect(() => h.machine.validate(name, input)).toThrow(`cannot ${name} a campaign that is ${state}.`);
          return;
        }
        h.machine.validate(name, input);
        const progress = h.machine.decide(name, input);
        expect(progress.state).toBe(
          { approve: 'running', reject: 'rejected', pause: 'paused', resume: 'running', cancel: 'canceled' }[name],
        );
        expect(progress.decisions.at(-1)).toMatchObject({ action: name, by: 'dana' });
        expect(h.entered.at(-1)).toBe(progress.state);
      });
    }
  }

  it('refuses a decision with no name, a rejection with no reason, and a non-approver', () => {
    const h = harness(2, { approval: { approvers: ['ana'] } });
    expect(() => h.machine.validate('approve', { by: ' ' })).toThrow('`by` is required');
    expect(() => h.machine.validate('reject', { by: 'ana' })).toThrow('a rejection needs a reason.');
    expect(() => h.machine.validate('approve', { by: 'dana' })).toThrow(
      'dana is not an approver of this campaign (ana).',
    );
    expect(() => h.machine.validate('approve', { by: 'ana' })).not.toThrow();
    expect(h.machine.progress().decisions).toEqual([]);
  });

  it('expires when no decision comes before the deadline, recording it as the system', () => {
    const h = harness(2);
    const { timeoutMs, summary } = h.machine.awaitApproval();
    expect(timeoutMs).toBe(86_400_000);
    expect(summary).toBe('awaiting approval (24h)');
    expect(h.machine.progress().approvalDeadline).toBe(new Date(h.clock.now + 86_400_000).toISOString());
    h.machine.approvalEnded(false);
    expect(h.machine.progress()).toMatchObject({ state: 'expired', decisions: [{ action: 'expire', by: 'system' }] });
    expect(h.machine.progress().approvalDeadline).toBeUndefined();
  });
});

describe('CampaignMachine: dialing', () => {
  it('dials each target once, at most maxConcurrentCalls at a time, then completes', async () => {
    const h = harness(7, { maxConcurrentCalls: 3 });
    expect(await h.machine.nextDial()).toBe(Number.POSITIVE_INFINITY); // awaiting approval
    approve(h);
    const first = await h.dialAll();
    expect(first.map((d) => d.workflowId)).toEqual(['camp-1/item-0', 'camp-1/item-1', 'camp-1/item-2']);
    expect(h.machine.progress().counts.in_flight).toBe(3);
    finish(h, first);
    const rest = [...(await h.dialAll())];
    finish(h, rest);
    const last = await h.dialAll();
    finish(h, last);
    expect(h.machine.review()).toBe('completed');
    expect(h.machine.progress().counts).toMatchObject({ achieved: 7, pending: 0, in_flight: 0 });
  });

  it('paces creates to callsPerMinute in any window without the gate', async () => {
    const h = harness(5, { callsPerMinute: 2, maxConcurrentCalls: 10 });
    approve(h);
    const now = h.clock.now;
    expect((await h.dialAll()).length).toBe(2);
    const wake = await h.machine.nextDial();
    expect(wake).toBe(now + 60_000 + 1_200); // the window and its 2% margin
  });

  it('stops after the pilot calls for a second approval, then finishes', async () => {
    const h = harness(5, { pilotCalls: 2, maxConcurrentCalls: 5 });
    approve(h);
    const pilot = await h.dialAll();
    expect(pilot.length).toBe(2);
    finish(h, pilot);
    expect(h.machine.review()).toBe('pilot');
    expect(h.machine.progress()).toMatchObject({
      state: 'awaiting_approval',
      gate: 'pilot',
      pilot: { calls: 2, counts: { achieved: 2 } },
    });
    approve(h);
    finish(h, await h.dialAll());
    expect(h.machine.review()).toBe('completed');
    expect(h.machine.progress().counts.achieved).toBe(5);
  });

  it('pauses on 402 and redials the target under a new attempt after resume', async () => {
    const h = harness(2, { maxConcurrentCalls: 1 });
    approve(h);
    const [d] = await h.dialAll();
    h.machine.concluded(d!.target.index, 1, failure('InsufficientCredits'));
    h.machine.settled(d!.target.index);
    expect(h.machine.progress()).toMatchObject({
      state: 'paused',
      pauseReason: 'insufficient_credits',
      creditsRemaining: 0,
    });
    expect(await h.dialAll()).toEqual([]);
    h.machine.decide('resume', by);
    const [again] = await h.dialAll();
    expect(again).toMatchObject({ attempt: 2, workflowId: 'camp-1/item-0/r2' });
    expect(h.machine.targetsPage().attempts).toEqual({ 0: 2 });
  });

  it('pauses on ContactStoreUnavailable and redials the target under a new attempt after resume', async () => {
    const h = harness(1);
    approve(h);
    finish(h, await h.dialAll(), failure('ContactStoreUnavailable'));
    expect(h.machine.progress()).toMatchObject({
      state: 'paused',
      pauseReason: 'contact_store_unavailable',
      counts: { pending: 1, failed: 0 },
    });
    h.machine.decide('resume', by);
    const [again] = await h.dialAll();
    expect(again).toMatchObject({ attempt: 2, workflowId: 'camp-1/item-0/r2' });
  });

  it('pauses itself when credits_remaining reaches 0 after a call', async () => {
    const h = harness(3, { maxConcurrentCalls: 1 });
    approve(h);
    finish(h, await h.dialAll(), result('achieved', { creditsRemaining: 0 }));
    expect(h.machine.progress()).toMatchObject({ state: 'paused', pauseReason: 'insufficient_credits' });
  });

  it('cools down on RateLimited and gives a target up after 5 refusals', async () => {
    const h = harness(1, { maxConcurrentCalls: 1 });
    approve(h);
    for (let attempt = 1; attempt <= 5; attempt++) {
      const [d] = await h.dialAll();
      expect(d!.attempt).toBe(attempt);
      h.machine.concluded(0, attempt, failure('RateLimited'));
      h.machine.settled(0);
      expect(await h.machine.nextDial()).toBe(h.clock.now + 60_000);
      h.clock.now += 60_000;
    }
    expect(h.machine.progress()).toMatchObject({ counts: { failed: 1 }, failedByType: { RateLimited: 1 } });
  });

  it('defers a target over a frequency cap until allowedAt, never earlier, then dials it under a new attempt', async () => {
    const h = harness(2, { maxConcurrentCalls: 2 });
    approve(h);
    const [capped, other] = await h.dialAll();
    const allowedAt = h.clock.now + 6 * 3_600_000;
    h.machine.concluded(capped!.target.index, 1, { failureType: 'FrequencyCapped', message: 'x', allowedAt });
    h.machine.settled(capped!.target.index);
    finish(h, [other!]);
    expect(h.machine.review()).toBe('wait');
    expect(h.machine.progress()).toMatchObject({
      state: 'running',
      counts: { pending: 1, achieved: 1 },
      deferred: { count: 1, nextAt: new Date(allowedAt).toISOString() },
    });
    expect(await h.machine.nextDial()).toBe(allowedAt);
    expect(h.machine.waitSummary(allowedAt - h.clock.now)).toMatch(/^held by the contact policy's frequency cap/);
    h.clock.now = allowedAt - 1;
    expect(await h.machine.nextDial()).toBe(allowedAt);
    h.clock.now = allowedAt;
    const [again] = await h.dialAll();
    expect(again).toMatchObject({ attempt: 2, workflowId: 'camp-1/item-0/r2' });
    finish(h, [again!]);
    expect(h.machine.review()).toBe('completed');
    expect(h.machine.progress()).not.toHaveProperty('deferred');
  });

  it('counts a FrequencyCapped failure without allowedAt as failed, by its type', async () => {
    const h = harness(1);
    approve(h);
    finish(h, await h.dialAll(), failure('FrequencyCapped'));
    expect(h.machine.progress()).toMatchObject({ counts: { failed: 1 }, failedByType: { FrequencyCapped: 1 } });
  });

  it('counts every outcome in its state, and never redials an unknown one', async () => {
    const h = harness(6, { maxConcurrentCalls: 6 });
    approve(h);
    const dials = await h.dialAll();
    const outcomes: ExistingCall[] = [
      result('achieved'),
      result('not_achieved'),
      failure('CallTimedOut'),
      failure('CallCanceled'),
      failure('CallOutcomeUnknown'),
      { conflict: 'someone-else' },
    ];
    dials.forEach((d, i) => {
      h.machine.concluded(d.target.index, d.attempt, outcomes[i]!);
      h.machine.settled(d.target.index);
    });
    expect(await h.dialAll()).toEqual([]);
    expect(h.machine.review()).toBe('completed');
    expect(h.machine.progress()).toMatchObject({
      counts: { achieved: 1, not_achieved: 1, timed_out: 1, canceled: 1, unknown: 1, skipped: 1 },
      skippedByReason: { id_conflict: 1 },
    });
    expect(h.machine.targetsPage().states).toBe('ANTCUS');
  });

  it('holds targets whose zone is closed or unknown, and dials those in an open zone', async () => {
    const h = harness(0, { callingWindow: { start: '08:00', end: '21:00' } }, { validated: false });
    const list: ValidTarget[] = [
      { index: 0, key: 'item-0', target: { toPhoneNumber: '+81312345678', objective: 'x', timezone: 'Asia/Tokyo' } },
      { index: 1, key: 'item-1', target: { toPhoneNumber: '+14155550100', objective: 'x' } },
      {
        index: 2,
        key: 'item-2',
        target: { toPhoneNumber: '+14155550101', objective: 'x', timezone: 'America/New_York' },
      },
    ];
    h.machine.validated({
      inspection: { sourceHash: 'h', rows: 3, valid: 3, refused: 0, refusedByReason: {}, refusals: [] },
      inlineValid: list,
      indexed: false,
    });
    approve(h);
    const dials = await h.dialAll();
    expect(dials.map((d) => d.target.index)).toEqual([2]);
    expect(h.machine.progress()).toMatchObject({
      counts: { skipped: 1, in_flight: 1, pending: 1 },
      skippedByReason: { no_timezone: 1 },
    });
  });

  it("applies each target's hours, when the campaign does, in the target's zone, and skips one they never meet", async () => {
    const asked: string[] = [];
    const input: CampaignInput = { name: 'Hours', targets: [] };
    const carry = { ...CampaignMachine.fresh('camp-1', 2), recipientHours: true as const };
    const machine = new CampaignMachine(input, resolveSettings(input), carry, {
      loadPage: async () => [],
      windowStatus: async (zone, at, window) => {
        asked.push(`${zone} ${window.start}-${window.end}`);
        return { open: window.end === '21:00', changesAt: at + 3_600_000 };
      },
      entered: () => {},
      changed: () => {},
      now: () => Date.UTC(2026, 11, 1, 12),
    });
    const at = (index: number, timezone: string | undefined, hours: ValidTarget['hours']): ValidTarget => ({
      index,
      key: `item-${index}`,
      target: { toPhoneNumber: `+1415555010${index}`, objective: 'x', ...(timezone ? { timezone } : {}) },
      ...(hours ? { hours } : {}),
    });
    const federal = { start: '08:00', end: '21:00', source: '47 CFR 64.1200(c)(1)' };
    const florida = { start: '08:00', end: '20:00', source: 'Fla. Stat. 501.059(8)(a)' };
    machine.validated({
      inspection: { sourceHash: 'h', rows: 5, valid: 5, refused: 0, refusedByReason: {}, refusals: [] },
      inlineValid: [
        at(0, 'America/New_York', federal),
        at(1, 'America/New_York', florida),
        at(2, 'America/New_York', { never: 'no overlap' }),
        at(3, undefined, federal),
        at(4, 'America/New_York', federal),
      ],
      indexed: false,
    });
    machine.decide('approve', by);
    const dials: Dial[] = [];
    for (let next = await machine.nextDial(); typeof next !== 'number'; next = await machine.nextDial())
      dials.push(next);
    expect(dials.map((d) => d.target.index)).toEqual([0, 4]);
    // One question per zone and hours: the second federal target in New York reads the first one's answer.
    expect(asked).toEqual(['America/New_York 08:00-21:00', 'America/New_York 08:00-20:00']);
    expect(machine.progress()).toMatchObject({
      counts: { in_flight: 2, pending: 1, skipped: 2 },
      skippedByReason: { outside_calling_hours: 1, no_timezone: 1 },
    });
  });

  it('reads a CSV list one page of 200 at a time', async () => {
    const h = harness(450, { maxConcurrentCalls: 1000, callsPerMinute: 1000 }, { inline: false });
    approve(h);
    expect((await h.dialAll()).length).toBe(450);
    expect(h.pages).toEqual([0, 200, 400]);
    expect(h.machine.progress().source).toEqual({
      kind: 'csv',
      path: '/x.csv',
      sha256: 'abc',
      rows: 450,
      valid: 450,
      refused: 0,
    });
  });

  it('states an inline source and returns its targets on request', () => {
    const h = harness(3);
    expect(h.machine.progress().source).toEqual({ kind: 'inline', rows: 3, valid: 3, refused: 0 });
    expect(h.machine.targetsPage({ offset: 1, limit: 1, withTargets: true }).targets?.map((t) => t.key)).toEqual([
      'item-1',
    ]);
    expect(h.machine.targetsPage().targets).toBeUndefined();
  });

  it('on cancel dials nothing more and skips what was never dialed', async () => {
    const h = harness(4, { maxConcurrentCalls: 1 });
    approve(h);
    const [d] = await h.dialAll();
    h.machine.decide('cancel', by);
    expect(await h.dialAll()).toEqual([]);
    finish(h, [d!]);
    h.machine.skipPending();
    expect(h.machine.progress()).toMatchObject({
      state: 'canceled',
      counts: { achieved: 1, skipped: 3 },
      skippedByReason: { canceled: 3 },
    });
  });

  it('carries its state to the next run', async () => {
    const h = harness(3, { maxConcurrentCalls: 1 });
    approve(h);
    finish(h, await h.dialAll());
    const carry = h.machine.carry();
    expect(carry).toMatchObject({ state: 'running', cursor: 1, targetStates: 'A..', runs: 2 });
  });
});

describe('CampaignMachine: the retry ladder', () => {
  const hour = 3_600_000;
  const ladder = { on: ['not_achieved', 'failed'], delays: ['4h', '1d'], maxAttempts: 3 } as const;
  const called = (outcome: CallResult['outcome'], callId: string): ExistingCall => ({
    result: { callId, status: 'completed', outcome, polls: 1 },
  });

  /** Dials the one target due now and ends its call with `outcome`. */
  async function callOnce(h: Harness, outcome: ExistingCall): Promise<Dial> {
    const [d, ...more] = await h.dialAll();
    expect(more).toEqual([]);
    h.machine.concluded(d!.target.index, d!.attempt, outcome);
    h.machine.settled(d!.target.index);
    return d!;
  }

  it('calls again after each delay on a timer, up to maxAttempts, and keeps every call for the report', async () => {
    const h = harness(1, { retry: { ...ladder, on: [...ladder.on], delays: [...ladder.delays] } }, { gated: true });
    approve(h);
    const start = h.clock.now;
    const first = await callOnce(h, called('not_achieved', 'cl_1'));
    expect(first).toMatchObject({ attempt: 1, workflowId: 'camp-1/item-0' });
    expect(first.dialSlot).not.toHaveProperty('ladder');
    expect(h.machine.review()).toBe('wait');
    expect(h.machine.progress()).toMatchObject({
      state: 'running',
      counts: { pending: 1, not_achieved: 0 },
      retrying: { count: 1, nextAt: new Date(start + 4 * hour).toISOString() },
    });
    expect(h.machine.progress()).not.toHaveProperty('deferred');
    expect(h.machine.details()).toContain('| waiting to retry | 1 |');
    // The wait is the workflow's timer: nothing is due a moment before.
    expect(await h.machine.nextDial()).toBe(start + 4 * hour);
    expect(h.machine.waitSummary(4 * hour)).toBe(
      `retry ladder: next call of a target in 14400s (${new Date(start + 4 * hour).toISOString()})`,
    );
    h.clock.now = start + 4 * hour - 1;
    expect(await h.dialAll()).toEqual([]);

    h.clock.now = start + 4 * hour;
    const second = await callOnce(h, failure('CallFailed'));
    // A redial of the ladder: the contact policy's per-campaign cap does not count it.
    expect(second).toMatchObject({ attempt: 2, workflowId: 'camp-1/item-0/r2', dialSlot: { ladder: true } });
    expect(await h.machine.nextDial()).toBe(start + 4 * hour + 24 * hour);

    h.clock.now = start + 28 * hour;
    const third = await callOnce(h, called('not_achieved', 'cl_3'));
    expect(third).toMatchObject({ attempt: 3, dialSlot: { ladder: true } });
    // maxAttempts reached: the last call's outcome is the target's.
    expect(h.machine.review()).toBe('completed');
    const progress = h.machine.progress();
    expect(progress.counts).toMatchObject({ not_achieved: 1, pending: 0 });
    expect(progress.failedByType).toEqual({});
    expect(progress).not.toHaveProperty('retrying');
    expect(h.machine.targetsPage().ladders).toEqual({
      0: [
        { attempt: 1, at: new Date(start).toISOString(), state: 'not_achieved', callId: 'cl_1' },
        { attempt: 2, at: new Date(start + 4 * hour).toISOString(), state: 'failed' },
        { attempt: 3, at: new Date(start + 28 * hour).toISOString(), state: 'not_achieved', callId: 'cl_3' },
      ],
    });
  });

  it('ends the ladder at the first outcome not in `on`, and counts a failure by its type only when it is final', async () => {
    const h = harness(3, { maxConcurrentCalls: 3, retry: { on: ['failed'], delays: ['1h'], maxAttempts: 4 } });
    approve(h);
    const dials = await h.dialAll();
    h.machine.concluded(0, 1, failure('CallFailed'));
    h.machine.concluded(1, 1, called('not_achieved', 'cl_b'));
    h.machine.concluded(2, 1, failure('CallOutcomeUnknown'));
    dials.forEach((d) => h.machine.settled(d.target.index));
    expect(h.machine.progress()).toMatchObject({
      counts: { pending: 1, not_achieved: 1, unknown: 1 },
      retrying: { count: 1 },
    });
    expect(h.machine.progress().failedByType).toEqual({});
    // The last delay repeats: every rung waits an hour.
    for (let call = 2; call <= 4; call++) {
      h.clock.now += 3_600_000;
      const d = await callOnce(h, failure('CallFailed'));
      expect(d.attempt).toBe(call);
    }
    expect(h.machine.review()).toBe('completed');
    expect(h.machine.progress()).toMatchObject({ counts: { failed: 1 }, failedByType: { CallFailed: 1 } });
    expect(h.machine.targetsPage().ladders?.[0]).toHaveLength(4);
    // Targets that never entered the ladder keep no list.
    expect(Object.keys(h.machine.targetsPage().ladders ?? {})).toEqual(['0']);
  });

  it('stops at an achieved call', async () => {
    const h = harness(1, { retry: { on: ['not_achieved'], delays: ['2h'], maxAttempts: 5 } });
    approve(h);
    await callOnce(h, called('not_achieved', 'cl_1'));
    h.clock.now += 2 * 3_600_000;
    await callOnce(h, called('achieved', 'cl_2'));
    expect(h.machine.review()).toBe('completed');
    expect(h.machine.progress().counts.achieved).toBe(1);
    expect(h.machine.targetsPage().ladders?.[0]?.map((a) => a.state)).toEqual(['not_achieved', 'achieved']);
  });

  it('keeps a redial on the ladder when the policy defers it, a 402 or a 429 sends it back, or the campaign continues as new', async () => {
    const retry = { on: ['not_achieved' as const], delays: ['1h'], maxAttempts: 3 };
    const h = harness(1, { retry }, { gated: true });
    approve(h);
    await callOnce(h, called('not_achieved', 'cl_1'));
    h.clock.now += 3_600_000;
    const capped = await callOnce(h, {
      failureType: 'FrequencyCapped',
      message: 'x',
      allowedAt: h.clock.now + 5 * 3_600_000,
    });
    expect(capped.dialSlot).toMatchObject({ ladder: true });
    expect(h.machine.progress()).toMatchObject({ retrying: { count: 1 } });
    h.clock.now += 5 * 3_600_000;
    const refused = await callOnce(h, failure('RateLimited'));
    expect(refused.dialSlot).toMatchObject({ ladder: true });

    // The next run of the campaign (continue-as-new) picks the ladder up where it was.
    const input: CampaignInput = { name: 'Spring check', targets: [], retry };
    const next = new CampaignMachine(input, resolveSettings(input), h.machine.carry(), {
      loadPage: async () => [],
      windowStatus: async (_zone, at) => ({ open: true, changesAt: at + 3_600_000 }),
      entered: () => {},
      changed: () => {},
      now: () => h.clock.now + 60_000,
    });
    const again = await next.nextDial();
    expect(again).toMatchObject({ attempt: 4, dialSlot: { ladder: true } });
    next.concluded(0, 4, called('not_achieved', 'cl_4'));
    next.settled(0);
    // Two calls placed (a capped or refused dial places none): one rung left.
    expect(next.review()).toBe('wait');
    expect(next.targetsPage().ladders?.[0]?.map((a) => a.attempt)).toEqual([1, 4]);
    expect(next.progress()).toMatchObject({ retrying: { count: 1 } });
  });

  it('does not retry once the campaign is canceled: the waiting targets are skipped', async () => {
    const h = harness(1, { retry: { on: ['not_achieved'], delays: ['1h'], maxAttempts: 3 } });
    approve(h);
    await callOnce(h, called('not_achieved', 'cl_1'));
    h.machine.decide('cancel', by);
    h.machine.skipPending();
    expect(h.machine.progress()).toMatchObject({ counts: { skipped: 1 }, skippedByReason: { canceled: 1 } });
  });
});
