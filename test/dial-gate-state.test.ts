import { describe, expect, it } from 'vitest';
import { maxInAnyWindow } from './helpers/campaign';
import { DialGateState } from '../src/workflows/dial-gate-state';
import { type Ceiling, type SlotRequest } from '../src/shared/dial-gate';

// The gate's rules on a virtual clock, without Temporal: every run below is thousands of steps in milliseconds.

const ceiling: Ceiling = { count: 10, windowMs: 60_000 };
const call = (requester: string): SlotRequest => ({ requester, priority: 'call', ceiling });
const dial = (campaignId: string, requester: string, extra: Partial<SlotRequest> = {}): SlotRequest => ({
  requester,
  priority: 'campaign',
  campaignId,
  ceiling,
  ...extra,
});

/**
 * Drives a gate the way its workflow and callers do: a caller offered a slot claims it `latencyMs` later, or just
 * before the slot's time if that is later, waits out the claim's `waitMs`, sends (or asks again if the offer lapsed); the API receives the create after a random part of its round trip (up to `rttMs`)
 * and the caller reports the answer at the end of it. Returns when the API received each create.
 */
function simulate(
  gate: DialGateState,
  arrivals: { at: number; request: SlotRequest }[],
  {
    until,
    latencyMs = 40,
    rttMs = 300,
    dead = new Set<string>(),
  }: { until: number; latencyMs?: number; rttMs?: number; dead?: Set<string> },
) {
  const received: { requester: string; at: number; campaignId?: string }[] = [];
  const claimsDue = new Map<string, number>(); // offerId → when its claim reaches the gate
  const answersDue: { requester: string; at: number }[] = [];
  const queue = [...arrivals].sort((a, b) => a.at - b.at);
  let random = 12345;
  const rand = () => (random = (random * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let now = 0;
  while (now <= until) {
    while (queue.length && queue[0]!.at <= now) gate.request(queue.shift()!.request, now);
    for (const answer of answersDue.filter((a) => a.at <= now)) gate.answered(answer.requester, answer.at);
    answersDue.splice(0, answersDue.length, ...answersDue.filter((a) => a.at > now));
    const wake = gate.schedule(now);
    for (const { request } of arrivals) {
      const offer = gate.offerFor(request.requester);
      if (offer && !claimsDue.has(offer.offerId) && !dead.has(request.requester))
        claimsDue.set(offer.offerId, Math.max(now + latencyMs, offer.notBefore - 100));
    }
    for (const [offerId, at] of claimsDue) {
      if (at > now) continue;
      const verdict = gate.claim(offerId, 1, now);
      claimsDue.delete(offerId);
      const req = arrivals.find((a) => a.request.requester === offerRequester(offerId))!;
      if (verdict.kind !== 'claimed') {
        if (!dead.has(req.request.requester)) gate.request(req.request, now);
        continue;
      }
      const sentAt = now + verdict.waitMs;
      const rtt = 1 + Math.floor(rand() * rttMs);
      const arrivesAt = sentAt + Math.floor(rand() * rtt);
      received.push({
        requester: req.request.requester,
        at: arrivesAt,
        ...(req.request.campaignId ? { campaignId: req.request.campaignId } : {}),
      });
      answersDue.push({ requester: req.request.requester, at: sentAt + rtt });
    }
    const next = Math.min(
      wake,
      ...claimsDue.values(),
      ...answersDue.map((a) => a.at),
      queue[0]?.at ?? Number.POSITIVE_INFINITY,
    );
    now = Math.max(now + 1, Number.isFinite(next) ? next : until + 1);
  }
  return received.sort((a, b) => a.at - b.at);

  function offerRequester(offerId: string): string {
    return offerOwners.get(offerId)!;
  }
}
const offerOwners = new Map<string, string>();
/** Wraps a gate so the simulation can tell whose offer it claims. */
function tracked(gate: DialGateState): DialGateState {
  const offerFor = gate.offerFor.bind(gate);
  gate.offerFor = (requester) => {
    const offer = offerFor(requester);
    if (offer) offerOwners.set(offer.offerId, requester);
    return offer;
  };
  return gate;
}

describe('the dial gate', () => {
  it('never lets more than the ceiling claim in any window, whatever the mix of callers and latencies', () => {
    for (const [seed, latencyMs] of [
      [1, 5],
      [2, 40],
      [3, 400],
      [4, 3_000],
    ] as const) {
      const gate = tracked(new DialGateState(ceiling));
      const arrivals = Array.from({ length: 120 }, (_, i) => ({
        at: (i * 7919 * seed) % 300_000,
        request: i % 5 === 0 ? call(`c${seed}-${i}`) : dial(`camp-${i % 3}`, `d${seed}-${i}`),
      }));
      const claims = simulate(gate, arrivals, { until: 2_000_000, latencyMs });
      expect(claims).toHaveLength(120);
      expect(
        maxInAnyWindow(
          claims.map((c) => c.at),
          ceiling.windowMs + gate.guardMs,
        ),
      ).toBeLessThanOrEqual(10);
    }
  });

  it('keeps the pace close to the ceiling: 100 creates take ten windows, each longer only by a round trip', () => {
    const gate = tracked(new DialGateState(ceiling));
    const arrivals = Array.from({ length: 100 }, (_, i) => ({ at: 0, request: dial('a', `r${i}`) }));
    const claims = simulate(gate, arrivals, { until: 1_000_000, latencyMs: 100, rttMs: 300 });
    const last = Math.max(...claims.map((c) => c.at));
    // Nine windows before the last ten, each counted from an answer: at most a 300 ms round trip later than the send.
    expect(last).toBeLessThan(9 * (ceiling.windowMs + gate.guardMs + 300) + 1_000);
    expect(last).toBeGreaterThanOrEqual(9 * ceiling.windowMs);
  });

  it('offers a single call the next slot, ahead of every campaign dial waiting before it', () => {
    const gate = tracked(new DialGateState(ceiling));
    const arrivals = [
      ...Array.from({ length: 30 }, (_, i) => ({ at: 0, request: dial('a', `a${i}`) })),
      { at: 5_000, request: call('single') },
    ];
    const claims = simulate(gate, arrivals, { until: 500_000 });
    const single = claims.find((c) => c.requester === 'single')!;
    // The first window went to the campaign before the call arrived; the call takes the first slot after it.
    const after = claims.filter((c) => c.at > 5_000);
    expect(single.at).toBe(Math.min(...after.map((c) => c.at)));
    expect(after.filter((c) => c.at < single.at)).toEqual([]);
    expect(single.at - 5_000).toBeLessThanOrEqual(ceiling.windowMs + gate.guardMs);
  });

  it('shares the key equally between campaigns by default, and by weight with share', () => {
    const equal = tracked(new DialGateState(ceiling));
    const both = (a: Partial<SlotRequest>, b: Partial<SlotRequest>) => [
      ...Array.from({ length: 40 }, (_, i) => ({ at: 0, request: dial('a', `a${i}`, a) })),
      ...Array.from({ length: 40 }, (_, i) => ({ at: 0, request: dial('b', `b${i}`, b) })),
    ];
    const firstHalf = (claims: { campaignId?: string }[]) => {
      const half = claims.slice(0, 30);
      return { a: half.filter((c) => c.campaignId === 'a').length, b: half.filter((c) => c.campaignId === 'b').length };
    };
    expect(firstHalf(simulate(equal, both({}, {}), { until: 1_000_000 }))).toEqual({ a: 15, b: 15 });
    const weighted = tracked(new DialGateState(ceiling));
    expect(firstHalf(simulate(weighted, both({ share: 2 }, { share: 1 }), { until: 1_000_000 }))).toEqual({
      a: 20,
      b: 10,
    });
  });

  it("holds a campaign to its own cap within the key's ceiling", () => {
    const gate = tracked(new DialGateState(ceiling));
    const cap = { count: 3, windowMs: 60_000 };
    const arrivals = Array.from({ length: 12 }, (_, i) => ({ at: 0, request: dial('slow', `s${i}`, { cap }) }));
    const claims = simulate(gate, arrivals, { until: 1_000_000 });
    expect(claims).toHaveLength(12);
    expect(
      maxInAnyWindow(
        claims.map((c) => c.at),
        60_000 + gate.guardMs,
      ),
    ).toBe(3);
  });

  it('after a 429 holds every caller for the back-off, then goes on', () => {
    const gate = tracked(new DialGateState(ceiling));
    gate.rateLimited(60_000, 0);
    const claims = simulate(gate, [{ at: 0, request: call('x') }], { until: 200_000 });
    expect(claims[0]!.at).toBeGreaterThanOrEqual(60_000);
    expect(gate.snapshot(200_000).totals.rateLimited).toBe(1);
  });

  it('gives the slot of a caller that never claims it to the next one after the offer lapses', () => {
    const gate = tracked(new DialGateState({ count: 1, windowMs: 1_000 }));
    const one = { count: 1, windowMs: 1_000 };
    const arrivals = [
      { at: 0, request: { ...call('dead'), ceiling: one } },
      { at: 0, request: { ...call('alive'), ceiling: one } },
    ];
    const claims = simulate(gate, arrivals, { until: 20_000, dead: new Set(['dead']) });
    expect(claims.map((c) => c.requester)).toEqual(['alive']);
    expect(gate.claim('o1', 1, 20_000)).toEqual({ kind: 'lapsed' });
  });

  it('keeps a requester’s place in line when it asks again, and never offers it twice', () => {
    const one = { count: 1, windowMs: 1_000 };
    const gate = new DialGateState(one);
    const single = (requester: string) => ({ ...call(requester), ceiling: one });
    gate.request(single('a'), 0);
    gate.request(single('b'), 0);
    gate.request(single('a'), 10);
    gate.schedule(10);
    expect(gate.offerFor('a')).toBeDefined();
    expect(gate.offerFor('b')).toBeUndefined();
    gate.request(single('a'), 20);
    gate.schedule(20);
    expect(gate.snapshot(20).offersOutstanding).toBe(1);
  });

  it('remembers which attempts of a create claimed a slot, so a retry knows an earlier attempt may have sent', () => {
    const gate = new DialGateState(ceiling);
    gate.request(call('r'), 0);
    gate.schedule(0);
    expect(gate.claim(gate.offerFor('r')!.offerId, 1, 0)).toMatchObject({ kind: 'claimed' });
    expect(gate.unreleasedClaims('r')).toEqual([1]);
    gate.release('r', 1);
    expect(gate.unreleasedClaims('r')).toEqual([]);
    expect(gate.unreleasedClaims('never-seen')).toEqual([]);
  });

  it('carries claims, offers, hold and memory across continue-as-new', () => {
    const gate = new DialGateState(ceiling);
    for (let i = 0; i < 10; i++) {
      gate.request(call(`r${i}`), 0);
      gate.schedule(0);
      gate.claim(gate.offerFor(`r${i}`)!.offerId, 1, 0);
    }
    gate.rateLimited(30_000, 0);
    const next = new DialGateState(ceiling, JSON.parse(JSON.stringify(gate.carry(1_000))));
    next.request(call('late'), 1_000);
    next.schedule(1_000);
    expect(next.offerFor('late')).toBeUndefined(); // the window is still full
    expect(next.unreleasedClaims('r3')).toEqual([1]);
    expect(next.snapshot(1_000)).toMatchObject({ claimsInWindow: 10, totals: { claims: 10, rateLimited: 1 } });
  });

  it('gives a single call that comes after the next window was offered the latest unclaimed campaign slot', () => {
    const gate = tracked(new DialGateState(ceiling));
    // The second window's offers go out up to 2 s ahead of it; the single call comes inside those 2 s.
    const firstWindowEnds = ceiling.windowMs + gate.guardMs;
    const arrivals = [
      ...Array.from({ length: 30 }, (_, i) => ({ at: 0, request: dial('a', `a${i}`) })),
      { at: firstWindowEnds - 500, request: call('single') },
    ];
    const claims = simulate(gate, arrivals, { until: 1_000_000, rttMs: 1 });
    const single = claims.find((c) => c.requester === 'single')!;
    expect(claims).toHaveLength(31); // the campaign call it displaced asked again and was dialed later
    expect(single.at - (firstWindowEnds - 500)).toBeLessThanOrEqual(1_000);
    expect(
      maxInAnyWindow(
        claims.map((c) => c.at),
        ceiling.windowMs + gate.guardMs,
      ),
    ).toBeLessThanOrEqual(10);
  });

  it('hands each offer to the activity that waits for it, and puts one never handed over back in line', () => {
    const gate = new DialGateState(ceiling);
    gate.request(dial('a', 'w', { taskToken: 'dG9rZW4tMQ==' }), 0);
    gate.schedule(0);
    const [first] = gate.pendingDeliveries();
    expect(first).toMatchObject({ taskToken: 'dG9rZW4tMQ==', offer: { requester: 'w' } });
    // Never handed over (say the gate continued as new in between): it lapses and the caller, who does not look,
    // is offered again, with the same token.
    gate.schedule(first!.offer.expiresAt + 1);
    const [again] = gate.pendingDeliveries();
    expect(again!.offer.offerId).not.toBe(first!.offer.offerId);
    expect(again!.taskToken).toBe('dG9rZW4tMQ==');
    // Handed over late: the caller gets the offer's full time to claim it from the hand-over.
    const late = again!.offer.expiresAt + 5_000;
    gate.delivered(again!.offer.offerId, again!.taskToken, 'delivered', late - 1_000);
    expect(gate.pendingDeliveries()).toEqual([]);
    expect(gate.claim(again!.offer.offerId, 1, late)).toMatchObject({ kind: 'claimed' });
  });

  it('keeps claims only as long as a window counts them, however many it has seen', () => {
    const gate = new DialGateState({ count: 10, windowMs: 1_000 });
    const fast = { count: 10, windowMs: 1_000 };
    for (let i = 0; i < 2_000; i++) {
      const now = i * 101;
      gate.request({ ...dial('a', `r${i}`, { cap: fast }), ceiling: fast }, now);
      gate.schedule(now);
      const offer = gate.offerFor(`r${i}`);
      if (offer && gate.claim(offer.offerId, 1, now).kind === 'claimed') gate.answered(`r${i}`, now + 5);
    }
    expect(gate.carry(2_000 * 101).claims.length).toBeLessThanOrEqual(11);
  });

  it('keeps the strictest ceiling when workers disagree', () => {
    const gate = new DialGateState(ceiling);
    gate.request({ ...call('x'), ceiling: { count: 5, windowMs: 60_000 } }, 0);
    gate.request({ ...call('y'), ceiling: { count: 100, windowMs: 60_000 } }, 0);
    expect(gate.snapshot(0).ceiling).toEqual({ count: 5, windowMs: 60_000 });
  });
});
