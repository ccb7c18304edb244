import {
  allHandlersFinished,
  ApplicationFailure,
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
import type { CampaignCarry, CampaignInput, CampaignProgress } from '../shared/campaign-types';
import { decisionNames } from '../shared/decisions';
import { failureOf, FailureType } from '../shared/failures';
import { campaignProgressQuery, campaignTargetsQuery, decisionUpdates } from '../shared/messages';
import { searchAttributes } from '../shared/search-attributes';
import { resolveSettings } from './campaign-settings';
import { CampaignMachine, type Dial } from './campaign-machine';
import { placeCallWorkflow } from './place-call';

const { inspectCampaignTargets, loadCampaignTargets } = proxyActivities<CampaignActivities>({
  // A 100,000-row file is parsed and checked in 10–15 s on a busy 2-core machine (docs/benchmarks.md, 6); pages
  // after the first come from the worker's cache. The margin is for slow disks.
  startToCloseTimeout: '2m',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: [FailureType.InvalidInput] },
});

const { existingCallOutcome } = proxyActivities<CampaignActivities>({
  // It may wait for a call that an earlier run started: up to the call's own timeout and then some.
  startToCloseTimeout: '30m',
  heartbeatTimeout: '30s',
});

const { callingWindows } = proxyLocalActivities<CampaignActivities>({ startToCloseTimeout: '10s' });

/**
 * Calls a list of targets behind a human approval gate: validate every target, wait for approval, then dial each
 * valid target once as a child `placeCallWorkflow`, at most `maxConcurrentCalls` at a time and `callsPerMinute`
 * creates per window, pausing itself when credits run out. The rules are `CampaignMachine`'s
 * (./campaign-machine.ts); this function carries messages to it, starts the calls it asks for and sleeps.
 *
 * The campaign's calls pass the API key's dial gate (./dial-gate.ts), which holds every create made with the key to
 * the key's ceiling and the campaign to its callsPerMinute at the moment each create is sent. A 429 caused by other
 * users of the same key slows the campaign down for the contract's 60 s instead of failing it.
 */
export async function callCampaignWorkflow(input: CampaignInput): Promise<CampaignProgress> {
  const info = workflowInfo();
  refuseForgedCarry(input, info);
  // A raw start from another client may pass no argument at all: resolveSettings refuses it with InvalidInput.
  const carried = (input as CampaignInput | undefined)?.carry;
  // New starts get every rule; a campaign started before the stricter ones (its replay, its next runs) keeps its own.
  const strict = !carried && patched('campaign-strict-settings');
  // The retry ladder runs in campaigns started since it exists; the first run records it for the next ones.
  const ladder = carried
    ? carried.retryLadder === true
    : (input as CampaignInput | undefined)?.retry !== undefined && patched('campaign-retry-ladder');
  const settings = resolveSettings(input, { strict, ladder });
  const carry = carried ?? CampaignMachine.fresh(info.workflowId, patched('campaign-child-ids-v2') ? 2 : 1);
  if (ladder) carry.retryLadder = true;
  // The recipients' calling hours apply to campaigns started since they exist; the first run records it.
  if (!carried && patched('campaign-recipient-hours')) carry.recipientHours = true;
  const window = input.callingWindow;
  const recipientHours = carry.recipientHours
    ? { ...(window ? { callingWindow: { start: window.start, end: window.end } } : {}) }
    : undefined;
  const campaign: CampaignMachine = new CampaignMachine(input, settings, carry, {
    loadPage: (first, count) =>
      loadCampaignTargets.executeWithOptions({ summary: `load targets ${first + 1}–${first + count}` }, [
        {
          targetsCsvPath: input.targetsCsvPath!,
          sourceHash: carry.inspection.sourceHash,
          from: first,
          count,
          ...(recipientHours ? { recipientHours } : {}),
        },
      ]),
    windowStatus: async (zone, at, window) =>
      (
        await callingWindows.executeWithOptions({ summary: `calling window in ${zone}` }, [
          { zones: [zone], window, at },
        ])
      )[zone]!,
    entered: () => index(),
    changed: () => setCurrentDetails(campaign.details()),
    now: () => Date.now(),
  });

  // ---- messages: registered before the first await --------------------------------------------------------------
  setHandler(campaignProgressQuery, () => campaign.progress());
  setHandler(campaignTargetsQuery, (query) => campaign.targetsPage(query));
  for (const name of decisionNames) {
    setHandler(decisionUpdates[name], (decision) => campaign.decide(name, decision), {
      validator: (decision) => campaign.validate(name, decision),
    });
  }

  // ---- validation ---------------------------------------------------------------------------------------------------
  if (!carried) {
    const inspected = await inspectCampaignTargets.executeWithOptions({ summary: 'validate targets' }, [
      {
        targetsCsvPath: input.targetsCsvPath,
        targets: input.targets,
        ...(input.callingWindow?.defaultTimezone ? { defaultTimezone: input.callingWindow.defaultTimezone } : {}),
        pace: { calls: settings.callsPerMinute, windowMs: settings.rateWindowMs },
        ...(recipientHours ? { recipientHours } : {}),
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
    campaign.validated(inspected);
  }
  index();

  // ---- the story ----------------------------------------------------------------------------------------------------
  while (!campaign.isFinal()) {
    if (campaign.state === 'awaiting_approval') {
      const { timeoutMs, summary } = campaign.awaitApproval();
      campaign.approvalEnded(await condition(() => campaign.state !== 'awaiting_approval', timeoutMs, { summary }));
      continue;
    }
    let wakeAt = Number.POSITIVE_INFINITY;
    if (campaign.state === 'running' && !historyFull()) wakeAt = await dialWhatCan();
    if (historyFull() && campaign.inFlightCount === 0) break;
    const next = campaign.review();
    if (next === 'completed') break;
    if (next === 'pilot') continue;
    const seen = campaign.version;
    const timeout = Number.isFinite(wakeAt) ? Math.max(1, wakeAt - Date.now()) : undefined;
    if (timeout === undefined) await condition(() => campaign.version !== seen);
    else await condition(() => campaign.version !== seen, timeout, { summary: campaign.waitSummary(timeout) });
  }

  if (!campaign.isFinal()) {
    // Continue-as-new with nothing in flight, once every update has answered, so no message is lost.
    await condition(allHandlersFinished);
    return continueAsNew<typeof callCampaignWorkflow>({ ...input, targets: undefined, carry: campaign.carry() });
  }

  // Calls in flight cannot be hung up: they are followed to their end and reported.
  await condition(() => campaign.inFlightCount === 0);
  campaign.skipPending();
  await condition(allHandlersFinished);
  return campaign.progress();

  function index(): void {
    if (campaign.indexed) upsertSearchAttributes([{ key: searchAttributes.campaignState, value: campaign.state }]);
  }

  /** Starts every call it may now; returns when it must wait (a pacer or window timer, or a free slot). */
  async function dialWhatCan(): Promise<number> {
    for (;;) {
      const next = await campaign.nextDial();
      if (typeof next === 'number') return next;
      void follow(next).finally(() => campaign.settled(next.target.index));
    }
  }

  async function follow({ target: vt, attempt, workflowId, dialSlot }: Dial): Promise<void> {
    const { id: _id, timezone: _tz, ...call } = vt.target;
    let outcome: ExistingCall;
    try {
      const child = await startChild(placeCallWorkflow, {
        workflowId,
        args: [{ ...call, ...(settings.timing ? { timing: settings.timing } : {}), ...(dialSlot ? { dialSlot } : {}) }],
        // The API cannot hang up a call: if the campaign ends, its calls are still followed to their end.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        memo: {
          objective: call.objective,
          campaign: input.name,
          ...(call.businessName ? { businessName: call.businessName } : {}),
        },
        staticSummary: `Campaign ${input.name}: ${vt.key}${call.businessName ? ` (${call.businessName})` : ''}`,
        ...(campaign.indexed
          ? { typedSearchAttributes: [{ key: searchAttributes.campaignId, value: carry.campaignId }] }
          : {}),
      });
      outcome = { result: await child.result() };
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        // An earlier run of this campaign id dialed this target: read its outcome, never dial it again.
        outcome = await existingCallOutcome.executeWithOptions({ summary: `outcome of existing ${workflowId}` }, [
          workflowId,
          carry.campaignId,
        ]);
      } else {
        const { type, message, details } = failureOf(error);
        const detail = details[0] as { allowedAt?: unknown; callId?: unknown } | undefined;
        const allowedAt = Date.parse(String(detail?.allowedAt));
        outcome = {
          failureType: type,
          message,
          ...(Number.isFinite(allowedAt) ? { allowedAt } : {}),
          ...(typeof detail?.callId === 'string' ? { callId: detail.callId } : {}),
        };
      }
    }
    campaign.concluded(vt.index, attempt, outcome);
  }

  /** Bounded history: continue-as-new well before Temporal's 50k events / 50 MB. */
  function historyFull(): boolean {
    const { historyLength, historySize } = workflowInfo();
    return historyLength > settings.historyLimit || historySize > 20 * 1024 * 1024;
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
