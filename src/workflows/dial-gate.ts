import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  type Ceiling,
  claimDialSlotUpdate,
  type DialGateSnapshot,
  type SlotRequest,
  dialAnsweredSignal,
  dialClaimsQuery,
  dialGateQuery,
  dialRateLimitedSignal,
  dialSlotQuery,
  releaseDialSlotUpdate,
  requestDialSlotSignal,
} from '../shared/dial-gate';
import { type DialGateCarry, DialGateState } from './dial-gate-state';
import type { Activities } from '../activities';

const { deliverDialOffers } = proxyActivities<Activities>({
  // Completing a few activities: short RPCs, safe to repeat (a completed activity answers "not found", and counts
  // as handed over). A regular activity, not a local one: its result is an event ordered with the claims and
  // signals around it, where a local activity's marker in a task that also handled updates did not replay alike
  // after a worker was killed (a nondeterminism error in the fault suite).
  startToCloseTimeout: '5s',
  retry: { maximumAttempts: 3, initialInterval: '200ms' },
});

export interface DialGateInput {
  ceiling: Ceiling;
  carry?: DialGateCarry;
}
/**
 * Continue-as-new early: every message is a few events, and a worker that picks the gate up must replay its whole
 * history within the 10 s workflow task timeout. A 5,850-event history took 8.7 s to replay on a loaded 2-core
 * machine (the gate then timed out task after task); 2,000 keeps that near 3 s. Also well before the server's limit
 * of updates per run (2,000).
 */
const historyLimit = 2_000;
const updateLimit = 1_000;

/**
 * One per API key: every create made with the key passes it. Why a workflow, and not the alternatives:
 * - A task queue with a server-side rate limit (`maxTaskQueueActivitiesPerSecond`) is a token bucket that allows
 *   bursts and counts activity starts, not creates; it has no priority for single calls, no fair shares between
 *   campaigns, no shared back-off after a 429, and is fixed when a worker starts.
 * - A pacer in each campaign (what came before) cannot see other campaigns or single calls on the same key: two
 *   campaigns and a backend made 26 create attempts in a minute against the API's 10.
 * - A lock or counter in a database adds a service to run; this needs nothing but the Temporal namespace, works on
 *   `temporal server start-dev` and Temporal Cloud with no server flags, and every decision is in its history.
 * Its messages, per create: a signal to join the line that carries the waiting activity's task token, the offer
 * handed back by completing that activity (an activity of the gate's, batched), an update to claim the offered slot right
 * before the create is sent, and a signal when the answer came back. Waiting is never an update: the server allows
 * few updates in flight per workflow, and a line of waiters would exceed it. Nor is it polled: queries to a workflow
 * busy with a task are buffered one at a time, and 20 waiters polling every 250 ms drew 2,003 RESOURCE_EXHAUSTED
 * refusals in one benchmark, lapsed 90 offers and halved the rate (docs/benchmarks.md).
 * `npm run bench` measures the cost.
 */
export async function dialGateWorkflow(input: DialGateInput): Promise<void> {
  // Gates that ran before the second rules (see DialGateState) replay with the first.
  const gate = new DialGateState(input.ceiling, input.carry, patched('gate-rules-v2') ? 2 : 1);
  let changed = 0;
  let updates = 0;
  const touch = () => void changed++;

  setHandler(dialGateQuery, () => gate.snapshot(Date.now()));
  setHandler(dialClaimsQuery, (requester) => gate.unreleasedClaims(requester));
  setHandler(dialSlotQuery, (requester) => gate.statusOf(requester));
  setHandler(dialRateLimitedSignal, ({ backOffMs }) => (gate.rateLimited(backOffMs, Date.now()), touch()));
  setHandler(dialAnsweredSignal, ({ requester, at }) => (gate.answered(requester, at), touch()));
  setHandler(requestDialSlotSignal, (request) => {
    // A malformed request is dropped: its caller sees `unknown`, asks again and fails its own checks.
    if (validRequest(request)) gate.request(request, Date.now());
    touch();
  });
  setHandler(releaseDialSlotUpdate, ({ requester, attempt }) => {
    updates++;
    gate.release(requester, attempt);
  });
  setHandler(claimDialSlotUpdate, ({ offerId, attempt }) => {
    updates++;
    const verdict = gate.claim(offerId, attempt, Date.now());
    touch();
    return verdict;
  });

  for (;;) {
    const seen = changed;
    const wakeAt = gate.schedule(Date.now());
    showDetails(gate.snapshot(Date.now()));
    const { historyLength, continueAsNewSuggested } = workflowInfo();
    if (historyLength > historyLimit || updates > updateLimit || continueAsNewSuggested) break;
    const deliveries = gate.pendingDeliveries();
    // Gates that ran before offers were handed over replay without it; their callers look by query.
    if (deliveries.length > 0 && patched('gate-delivers-offers')) {
      // A failure here must not end the gate: what was not handed over is tried again, or goes back to the line.
      const handed = await deliverDialOffers(deliveries).catch(() => deliveries.map(() => 'retry' as const));
      deliveries.forEach((d, i) => {
        const outcome = handed[i];
        if (outcome === 'delivered' || outcome === 'gone')
          gate.delivered(d.offer.offerId, d.taskToken, outcome, Date.now());
      });
      if (handed.includes('retry')) await condition(() => changed !== seen, 500);
      continue;
    }
    await condition(() => changed !== seen, Number.isFinite(wakeAt) ? Math.max(1, wakeAt - Date.now()) : undefined);
  }
  // Every handler here finishes within its task; the next run keeps the line, the claims and the offers.
  await condition(allHandlersFinished);
  await continueAsNew<typeof dialGateWorkflow>({ ceiling: input.ceiling, carry: gate.carry(Date.now()) });
}

function validRequest(request: SlotRequest): boolean {
  const ceiling = request?.ceiling;
  return (
    typeof request?.requester === 'string' &&
    request.requester.length <= 100 &&
    (request.priority === 'call' || request.priority === 'campaign') &&
    !!ceiling &&
    ceiling.count >= 1 &&
    ceiling.windowMs >= 100 &&
    (request.share === undefined || (request.share > 0 && request.share <= 100)) &&
    (request.taskToken === undefined || (typeof request.taskToken === 'string' && request.taskToken.length <= 2_000))
  );
}

/** The Web UI's "Current details": what the key's window holds and who waits for it, by priority. */
function showDetails(s: DialGateSnapshot): void {
  const campaigns = Object.entries(s.campaigns).map(
    ([id, c]) =>
      `| campaign ${id} | share ${c.share} · ${c.granted} dialed · waited ${Math.round(c.waitedMs / 1000)}s |`,
  );
  const waiting = Object.entries(s.waiting.campaigns).map(([id, n]) => `| waiting: campaign ${id} | ${n} |`);
  setCurrentDetails(
    [
      `**Dial gate**: ${s.ceiling.count} creates per ${s.ceiling.windowMs / 1000}s` +
        (s.holdUntil ? ` · holding after a 429 until ${s.holdUntil}` : ''),
      '',
      '| | |',
      '|---|---|',
      `| creates in the window | ${s.claimsInWindow} of ${s.ceiling.count} |`,
      `| slots offered, not yet claimed | ${s.offersOutstanding} |`,
      `| waiting: single calls (first) | ${s.waiting.calls} |`,
      ...waiting,
      ...campaigns,
      `| creates so far · 429s | ${s.totals.claims} · ${s.totals.rateLimited} |`,
    ].join('\n'),
  );
}
