// The per-key dial gate's rules, as a plain class: no Temporal, no clock of its own (every method is told `now`), so
// it is unit-tested in milliseconds and replays exactly. The workflow in dial-gate.ts only carries messages to it.
//
// A create happens in two steps: a caller is *offered* a slot (it waits in line for it), then *claims* it right
// before it sends the create. Claims are what the API counts, so claims are what the window counts: at any moment,
// the claims of the last window plus the offers not yet claimed never exceed the ceiling. An offer a caller never
// claims (its worker died) expires and frees its slot.

import type { Ceiling, Delivery, DialGateSnapshot, Offer, SlotRequest } from '../shared/dial-gate';

export interface Claim {
  /** When the create left (the claim), then, once its answer came back, when the answer came back. */
  at: number;
  requester: string;
  campaignId?: string;
  /** Whether its answer came back: until then, the API may count it any moment up to the HTTP timeout. */
  answered?: boolean;
}

/** `waitMs`: how long the caller waits before it sends, so that the create leaves at its slot's time. */
export type ClaimVerdict = { kind: 'claimed'; at: number; waitMs: number } | { kind: 'lapsed' };

export interface Waiting {
  request: SlotRequest;
  seq: number;
  since: number;
}

interface CampaignShare {
  share: number;
  /** Weighted virtual time: the campaign with the least goes next (start-time fair queuing). */
  vt: number;
  granted: number;
  waitedMs: number;
  lastSeen: number;
  /** The longest cap window the campaign asked for (plus the guard): its claims are kept that long. */
  capSpanMs?: number;
}

/** What continue-as-new hands to the next run: small and bounded, whatever the traffic. */
export interface DialGateCarry {
  ceiling: Ceiling;
  claims: Claim[];
  offers: Offer[];
  holdUntil: number;
  campaigns: Record<string, CampaignShare>;
  /** Requesters whose create was claimed, with the attempts that claimed: a retry of a claimed create is ambiguous. */
  claimed: [string, number[]][];
  released: [string, number[]][];
  seq: number;
  totals: { claims: number; rateLimited: number };
  /** The line: callers ask by signal and look by query, so the next run must know who waits. */
  queue?: Waiting[];
  /** Offers not yet handed to their waiting activity, by offer id, with the request (and its task token). */
  deliveries?: [string, Waiting][];
  /** Requesters whose offer lapsed, with their place in line: asking again, they go back there, not to the end. */
  lapsed?: [string, number][];
}

/** Requesters remembered for the ambiguity check: far more than can retry within an activity's timeout. */
const claimedKept = 5_000;
/** The HTTP client's longest timeout (15 s) and some: a create's answer comes back by then, or never. */
const answerTimeoutMs = 20_000;
/** Places in line kept for lapsed offers: more than can be waiting at once. */
const lapsedKept = 1_000;
/** A campaign unseen this long is forgotten. */
const campaignIdleMs = 3_600_000;

export class DialGateState {
  private ceiling: Ceiling;
  private claims: Claim[];
  private offers = new Map<string, Offer>();
  private queue: Waiting[] = [];
  private holdUntil: number;
  private campaigns = new Map<string, CampaignShare>();
  private claimed = new Map<string, number[]>();
  private released = new Map<string, number[]>();
  private seq: number;
  private totals: DialGateCarry['totals'];
  private deliveries: Map<string, Waiting>;
  private lapsed: Map<string, number>;

  /**
   * `rules: 1` are the rules gates ran before single calls could take a campaign's unclaimed slot and offers were
   * made a full window ahead: a gate replaying its history from then keeps them (dial-gate.ts decides by patch).
   */
  constructor(
    ceiling: Ceiling,
    carry?: DialGateCarry,
    private readonly rules: 1 | 2 = 2,
  ) {
    this.ceiling = carry?.ceiling ?? ceiling;
    this.claims = carry?.claims ?? [];
    for (const offer of carry?.offers ?? []) this.offers.set(offer.offerId, offer);
    this.holdUntil = carry?.holdUntil ?? 0;
    for (const [id, c] of Object.entries(carry?.campaigns ?? {})) this.campaigns.set(id, c);
    this.claimed = new Map(carry?.claimed ?? []);
    this.released = new Map(carry?.released ?? []);
    this.seq = carry?.seq ?? 0;
    this.queue = carry?.queue ?? [];
    this.totals = carry?.totals ?? { claims: 0, rateLimited: 0 };
    this.deliveries = new Map(carry?.deliveries ?? []);
    this.lapsed = new Map(carry?.lapsed ?? []);
  }

  /**
   * A window is counted from the moment each create's answer came back, which the API's own count cannot follow
   * (it received the request before it answered): so no create sent a window after another's answer can share the
   * API's window with it, however long either took on the way. The guard only covers the clocks of different
   * machines.
   */
  get guardMs(): number {
    return Math.max(10, Math.ceil(this.ceiling.windowMs * 0.005));
  }

  /**
   * How far ahead of its slot a caller is offered it, so that its claim arrives before the slot opens and it sends
   * exactly then, on its own clock: the gate's timers never delay a create. They fire late by up to a second (a
   * 167 ms timer fired after ~1 s on the dev server, its timer queue's resolution), so the lead is up to 2 s.
   */
  private get leadMs(): number {
    return this.rules === 1
      ? Math.min(1_000, Math.ceil(this.ceiling.windowMs * 0.5))
      : Math.min(2_000, this.ceiling.windowMs);
  }

  /** How long an offer waits for its claim. A caller whose worker died frees its slot after this. */
  private get offerTtlMs(): number {
    return Math.min(10_000, Math.max(1_000, this.ceiling.windowMs));
  }

  private get spanMs(): number {
    return this.ceiling.windowMs + this.guardMs;
  }

  /**
   * Joins the line, or keeps its place there when the same requester asks again (a retried activity). One whose
   * offer lapsed goes back to its old place: a slow claim costs its caller a moment, not the whole line again.
   */
  request(request: SlotRequest, now: number): void {
    this.tighten(request.ceiling);
    const offered = this.offerFor(request.requester);
    if (offered) {
      // Offered already: the retry picks up the same offer, handed to the activity that asks now.
      if (request.taskToken) {
        const seq = offered.seq ?? ++this.seq;
        this.deliveries.set(offered.offerId, { request, seq, since: now - offered.waitedMs });
      }
      return;
    }
    const queued = this.queue.find((w) => w.request.requester === request.requester);
    if (queued) {
      queued.request = request;
    } else {
      const seq = this.rules === 1 ? undefined : this.lapsed.get(request.requester);
      this.lapsed.delete(request.requester);
      this.enqueue({ request, seq: seq ?? ++this.seq, since: now });
    }
    if (request.campaignId !== undefined) {
      const c = this.campaignOf(request.campaignId, request.share ?? 1, now);
      if (request.cap) c.capSpanMs = Math.max(c.capSpanMs ?? 0, request.cap.windowMs + this.guardMs);
    }
  }

  /** Offers whose waiting activity has not been handed them yet. */
  pendingDeliveries(): Delivery[] {
    const out: Delivery[] = [];
    for (const [offerId, waiting] of this.deliveries) {
      const offer = this.offers.get(offerId);
      if (offer && waiting.request.taskToken) out.push({ taskToken: waiting.request.taskToken, offer });
      else this.deliveries.delete(offerId);
    }
    return out;
  }

  /**
   * What came of handing an offer over. Handed: its caller gets the offer's full time to claim it from now (the
   * hand-over may have waited for the gate's next task). Gone (the activity timed out, its workflow closed): the token
   * is spent; a retried activity asks again with a new one, and an offer nobody claims lapses.
   */
  delivered(offerId: string, taskToken: string, outcome: 'delivered' | 'gone', now: number): void {
    if (this.deliveries.get(offerId)?.request.taskToken !== taskToken) return;
    this.deliveries.delete(offerId);
    const offer = this.offers.get(offerId);
    if (offer && outcome === 'delivered') offer.expiresAt = Math.max(offer.expiresAt, now + this.offerTtlMs);
  }

  /** What a waiting caller sees when it looks: its offer, how many wait ahead of it, or nothing (ask again). */
  statusOf(
    requester: string,
  ): { kind: 'offer'; offer: Offer } | { kind: 'waiting'; ahead: number } | { kind: 'unknown' } {
    const offer = this.offerFor(requester);
    if (offer) return { kind: 'offer', offer };
    const at = this.queue.findIndex((w) => w.request.requester === requester);
    return at < 0 ? { kind: 'unknown' } : { kind: 'waiting', ahead: at };
  }

  /** The live offer for a requester, if it has one. */
  offerFor(requester: string): Offer | undefined {
    for (const offer of this.offers.values()) if (offer.requester === requester) return offer;
    return undefined;
  }

  /** Makes every offer it may now; returns when it must look again (a slot opens, a hold ends, an offer lapses). */
  schedule(now: number): number {
    this.expire(now);
    let wakeAt = Number.POSITIVE_INFINITY;
    for (;;) {
      if (this.queue.length === 0) break;
      const opensAt = Math.max(this.nextSlotAt(now), this.holdUntil);
      if (this.rules > 1 && this.giveCampaignSlotToCall(opensAt, now)) continue;
      if (opensAt - now > this.leadMs) {
        wakeAt = Math.min(wakeAt, opensAt - this.leadMs);
        break;
      }
      const picked = this.pick(opensAt);
      if (picked === undefined) {
        wakeAt = Math.min(wakeAt, this.capOpensAt(opensAt) - this.leadMs);
        break;
      }
      this.offer(picked, opensAt, now);
    }
    for (const offer of this.offers.values()) wakeAt = Math.min(wakeAt, offer.expiresAt);
    return Math.max(wakeAt, now + 1);
  }

  /**
   * The point of no return, made right before the create is sent: recorded with the attempt that claims, so that a
   * later attempt of the same create knows an earlier one may have reached the API.
   */
  claim(offerId: string, attempt: number, now: number): ClaimVerdict {
    const offer = this.offers.get(offerId);
    if (!offer || now > offer.expiresAt) {
      if (offer) this.lapse(offer);
      return { kind: 'lapsed' };
    }
    const at = Math.max(now, offer.notBefore, this.holdUntil);
    this.offers.delete(offerId);
    this.deliveries.delete(offerId);
    this.claims.push({ at, requester: offer.requester, ...(offer.campaignId ? { campaignId: offer.campaignId } : {}) });
    this.claims.sort((a, b) => a.at - b.at);
    this.remember(this.claimed, offer.requester, attempt);
    this.totals.claims++;
    // Counted when claimed, not offered: an offer that lapsed (its caller slow or gone) dialed nobody.
    const campaign = offer.campaignId === undefined ? undefined : this.campaigns.get(offer.campaignId);
    if (campaign) {
      campaign.granted++;
      campaign.waitedMs += offer.waitedMs;
    }
    return { kind: 'claimed', at, waitMs: at - now };
  }

  /** The claimed create's answer (or its failure) came back to its worker at `at`, on that worker's clock. */
  answered(requester: string, at: number): void {
    for (let i = this.claims.length - 1; i >= 0; i--) {
      const claim = this.claims[i]!;
      if (claim.requester !== requester || claim.answered) continue;
      claim.at = Math.max(at, claim.at);
      claim.answered = true;
      this.claims.sort((a, b) => a.at - b.at);
      return;
    }
  }

  /** A claimed create that certainly never left the worker (connection refused): a retry of it is not ambiguous. */
  release(requester: string, attempt: number): void {
    this.remember(this.released, requester, attempt);
  }

  /** Attempts of this create that claimed a slot and did not release it: each may have reached the API. */
  unreleasedClaims(requester: string): number[] {
    const released = this.released.get(requester) ?? [];
    return (this.claimed.get(requester) ?? []).filter((a) => !released.includes(a));
  }

  /** The API answered 429 anyway (someone else uses the key): everyone waits out the same back-off. */
  rateLimited(backOffMs: number, now: number): void {
    this.holdUntil = Math.max(this.holdUntil, now + backOffMs);
    this.totals.rateLimited++;
  }

  /** Forgets a requester's place in line: its caller is gone (the gate continues as new). */
  leave(requester: string): void {
    this.queue = this.queue.filter((w) => w.request.requester !== requester);
  }

  snapshot(now: number): DialGateSnapshot {
    const campaigns: DialGateSnapshot['waiting']['campaigns'] = {};
    let calls = 0;
    for (const w of this.queue) {
      if (w.request.priority === 'call') calls++;
      else campaigns[w.request.campaignId ?? '?'] = (campaigns[w.request.campaignId ?? '?'] ?? 0) + 1;
    }
    return {
      ceiling: { ...this.ceiling },
      guardMs: this.guardMs,
      claimsInWindow: this.claims.filter((c) => c.at > now - this.spanMs).length,
      offersOutstanding: this.offers.size,
      waiting: { calls, campaigns },
      ...(this.holdUntil > now ? { holdUntil: new Date(this.holdUntil).toISOString() } : {}),
      campaigns: Object.fromEntries(
        [...this.campaigns].map(([id, c]) => [id, { share: c.share, granted: c.granted, waitedMs: c.waitedMs }]),
      ),
      totals: { ...this.totals },
    };
  }

  carry(now: number): DialGateCarry {
    this.expire(now);
    return {
      ceiling: this.ceiling,
      claims: this.claims.filter((c) => this.kept(c, now)),
      offers: [...this.offers.values()],
      holdUntil: this.holdUntil,
      campaigns: Object.fromEntries(this.campaigns),
      claimed: [...this.claimed],
      released: [...this.released],
      seq: this.seq,
      totals: this.totals,
      queue: this.queue,
      deliveries: [...this.deliveries],
      lapsed: [...this.lapsed],
    };
  }

  // ---- the rules ----------------------------------------------------------------------------------------------------

  /** When the next slot opens: now, or when enough claims have left the window for one more offer. */
  private nextSlotAt(now: number): number {
    const inWindow = this.anchors(this.claims).filter((at) => at > now - this.spanMs);
    const free = this.ceiling.count - inWindow.length - this.offers.size;
    if (free > 0) return now;
    // The (1 - free)-th oldest claim must leave the window first.
    const leaving = inWindow[-free];
    return leaving === undefined ? Number.POSITIVE_INFINITY : leaving + this.spanMs;
  }

  /**
   * Where each claim's window starts, sorted: its answer, or, while its answer is out, the latest its answer can
   * come (the HTTP client gives up after 15 s). The gate looks again the moment an answer is reported.
   */
  private anchors(claims: Claim[]): number[] {
    return claims.map((c) => (c.answered ? c.at : c.at + answerTimeoutMs)).sort((a, b) => a - b);
  }

  /** Single calls first, in arrival order; then the campaign furthest behind its fair share, within its own cap. */
  private pick(at: number): Waiting | undefined {
    const call = this.queue.find((w) => w.request.priority === 'call');
    if (call) return call;
    let best: Waiting | undefined;
    let bestVt = Number.POSITIVE_INFINITY;
    const seen = new Set<string>();
    for (const w of this.queue) {
      const id = w.request.campaignId ?? '';
      if (seen.has(id)) continue; // the first waiter of each campaign speaks for it
      seen.add(id);
      if (!this.capAllows(w.request, at)) continue;
      const vt = this.campaigns.get(id)?.vt ?? 0;
      if (vt < bestVt) {
        best = w;
        bestVt = vt;
      }
    }
    return best;
  }

  private capAllows(request: SlotRequest, at: number): boolean {
    const cap = request.cap;
    if (!cap) return true;
    const span = cap.windowMs + this.guardMs;
    const own = this.claims.filter((c) => c.campaignId === request.campaignId);
    const used = this.anchors(own).filter((a) => a > at - span).length;
    const offered = [...this.offers.values()].filter((o) => o.campaignId === request.campaignId).length;
    return used + offered < cap.count;
  }

  /** The earliest time a capped campaign may be offered a slot again. */
  private capOpensAt(at: number): number {
    let opens = Number.POSITIVE_INFINITY;
    for (const w of this.queue) {
      const cap = w.request.cap;
      if (!cap) continue;
      const span = cap.windowMs + this.guardMs;
      const own = this.anchors(this.claims.filter((c) => c.campaignId === w.request.campaignId)).filter(
        (a) => a > at - span,
      );
      const oldest = own[0];
      if (oldest !== undefined) opens = Math.min(opens, oldest + span);
    }
    return Number.isFinite(opens) ? Math.max(opens, at) : at + this.ceiling.windowMs;
  }

  /**
   * Offers go out ahead of their slots, so a single call may arrive after the next window's slots were all offered to
   * campaign calls. It takes the latest such slot that is not claimed yet (claims come just before the slot's time):
   * the campaign call goes back to its place in line, and the single call waits no longer than if it had come first.
   */
  private giveCampaignSlotToCall(opensAt: number, now: number): boolean {
    const call = this.queue.find((w) => w.request.priority === 'call');
    if (!call) return false;
    let taken: Offer | undefined;
    for (const offer of this.offers.values()) {
      if (offer.campaignId === undefined || offer.notBefore >= opensAt) continue;
      if (!taken || offer.notBefore > taken.notBefore) taken = offer;
    }
    if (!taken) return false;
    const campaign = taken.campaignId === undefined ? undefined : this.campaigns.get(taken.campaignId);
    if (campaign) campaign.vt -= 1 / campaign.share;
    this.lapse(taken);
    this.offer(call, taken.notBefore, now);
    return true;
  }

  private offer(waiting: Waiting, notBefore: number, now: number): void {
    const { request } = waiting;
    this.queue = this.queue.filter((w) => w !== waiting);
    const offer: Offer = {
      offerId: `o${++this.seq}`,
      requester: request.requester,
      seq: waiting.seq,
      notBefore,
      expiresAt: notBefore + this.offerTtlMs,
      waitedMs: Math.max(0, notBefore - waiting.since),
      ...(request.campaignId !== undefined ? { campaignId: request.campaignId } : {}),
    };
    this.offers.set(offer.offerId, offer);
    if (request.taskToken) this.deliveries.set(offer.offerId, waiting);
    if (request.campaignId !== undefined) {
      const c = this.campaignOf(request.campaignId, request.share ?? 1, now);
      c.vt += 1 / c.share;
    }
  }

  private campaignOf(id: string, share: number, now: number): CampaignShare {
    let c = this.campaigns.get(id);
    if (!c) {
      // A newcomer starts level with the others, not at zero: it may not take the key for itself to catch up.
      const active = [...this.campaigns.values()].map((x) => x.vt);
      c = { share, vt: active.length ? Math.min(...active) : 0, granted: 0, waitedMs: 0, lastSeen: now };
      this.campaigns.set(id, c);
    }
    c.share = share;
    c.lastSeen = now;
    return c;
  }

  /**
   * Whether a claim still counts for anything: for the key's window until its anchor has left it, and for its
   * campaign's cap as long as that window. Kept no longer, so the gate's state (and its carry) stays as small as its
   * windows, however fast it dials: a 60-fold clock kept an hour of claims (36,000) and every task slowed down.
   */
  private kept(claim: Claim, now: number): boolean {
    const capSpan = claim.campaignId === undefined ? 0 : (this.campaigns.get(claim.campaignId)?.capSpanMs ?? 0);
    const anchor = claim.answered ? claim.at : claim.at + answerTimeoutMs;
    return anchor > now - Math.max(this.spanMs, capSpan);
  }

  /**
   * An offer nobody claimed in time. One never handed over (the gate was slow, or continued as new in between) goes
   * back to the line at its place, since its caller waits without looking; one handed over is asked for again by its
   * caller, who then gets its old place back.
   */
  private lapse(offer: Offer): void {
    this.offers.delete(offer.offerId);
    const undelivered = this.deliveries.get(offer.offerId);
    this.deliveries.delete(offer.offerId);
    if (undelivered) {
      this.enqueue(undelivered);
      return;
    }
    if (offer.seq !== undefined) this.lapsed.set(offer.requester, offer.seq);
    while (this.lapsed.size > lapsedKept) this.lapsed.delete(this.lapsed.keys().next().value!);
  }

  /** Into the line at its place: by arrival, so one coming back (a lapsed offer) is ahead of those who came later. */
  private enqueue(waiting: Waiting): void {
    const at = this.queue.findIndex((w) => w.seq > waiting.seq);
    if (at < 0) this.queue.push(waiting);
    else this.queue.splice(at, 0, waiting);
  }

  private expire(now: number): void {
    for (const offer of this.offers.values()) if (now > offer.expiresAt) this.lapse(offer);
    this.claims = this.claims.filter((c) => this.kept(c, now));
    for (const [id, c] of this.campaigns) {
      const waiting = this.queue.some((w) => w.request.campaignId === id);
      if (!waiting && now - c.lastSeen > campaignIdleMs) this.campaigns.delete(id);
    }
  }

  /** Two workers with different AGENTPHONE_RATE_LIMIT for one key: the stricter rate wins. */
  private tighten(ceiling: Ceiling): void {
    if (ceiling.count * this.ceiling.windowMs < this.ceiling.count * ceiling.windowMs) this.ceiling = { ...ceiling };
  }

  private remember(map: Map<string, number[]>, requester: string, attempt: number): void {
    const attempts = map.get(requester) ?? [];
    map.delete(requester);
    map.set(requester, attempts.includes(attempt) ? attempts : [...attempts, attempt]);
    while (map.size > claimedKept) map.delete(map.keys().next().value!);
  }
}
