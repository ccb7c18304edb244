import { activityInfo, getClient, heartbeat, log } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { type CallingWindow, windowStatus, type WindowStatus } from '../shared/calling-window';
import {
  inlineRows,
  isTimeZone,
  summarize,
  TargetsFileError,
  ValidatedTargetsCache,
  validateTargets,
} from '../domain/targets';
import { createsPerWindow, rateWindowMs } from '../agentphone/contract';
import { failureOf, FailureType } from '../shared/failures';
import type { CallResult } from '../shared/call-types';
import type { PolicyPreview, TargetsInspection, ValidTarget } from '../shared/targets';
import { CallingWindowError, callingHoursFor, capsFor, type ClockWindow, narrowWindow } from '../policy';
import { type ContactPolicyDeps, storeFault } from './contact-policy';

export type InspectedTargets =
  | { ok: true; inspection: TargetsInspection; inlineValid?: ValidTarget[]; indexed: boolean; gated?: boolean }
  | { ok: false; message: string; line?: number };

export type ExistingCall =
  | { result: CallResult }
  /**
   * `allowedAt`: epoch ms from which a FrequencyCapped target may be dialed again. `callId`: the call a failure
   * names (CallFailed, CallTimedOut).
   */
  | { failureType: string; message: string; allowedAt?: number; callId?: string }
  /** The id is taken by a workflow that this campaign did not start. */
  | { conflict: string };

/** The most creates a key may make per window: AGENTPHONE_RATE_LIMIT, by default the contract's 10 a minute. */
export interface RateCeiling {
  count: number;
  windowMs: number;
}

export interface InspectSource {
  targetsCsvPath?: string;
  targets?: unknown;
  /** The calling window's zone for targets that name none: checked against this runtime's zone list. */
  defaultTimezone?: string;
  /** The campaign's own pace, which must stay within the key's ceiling. */
  pace?: { calls: number; windowMs: number };
  /** The campaign applies its recipients' calling hours, narrowed by its own window: see ValidTarget.hours. */
  recipientHours?: RecipientHoursAsk;
}

/** A campaign that applies its recipients' calling hours, and its own window, which can only narrow them. */
export interface RecipientHoursAsk {
  callingWindow?: ClockWindow;
}

/** How many refusals are kept in history; `campaign preview --all` re-reads the file for the rest. */
const refusalsKept = 100;

export function createCampaignActivities({
  searchAttributes = false,
  rateLimit = { count: createsPerWindow, windowMs: rateWindowMs },
  gate,
  contacts,
}: { searchAttributes?: boolean; rateLimit?: RateCeiling; gate?: unknown; contacts?: ContactPolicyDeps } = {}) {
  /** Whether the calls of a campaign pass the key's dial gate: recorded with the validation, like the targets. */
  const gated = gate !== undefined;
  /** The valid targets of the files this worker pages through: each is parsed once per worker, not once a page. */
  const targets = new ValidatedTargetsCache();
  const withPolicy = (inspection: TargetsInspection, valid: readonly ValidTarget[], source: InspectSource) =>
    contacts ? screened(contacts, inspection, valid, source) : Promise.resolve(inspection);
  /**
   * The targets with their calling hours, when the campaign asks for them and the worker's policy applies them to
   * campaigns. New objects: the cache's stay as they are, for every campaign that reads the same file.
   */
  const withHours = (valid: ValidTarget[], ask: RecipientHoursAsk | undefined): ValidTarget[] => {
    if (!ask || !contacts?.policy.campaignHours) return valid;
    const policy = contacts.policy;
    return valid.map((vt) => {
      const { start, end, source } = callingHoursFor(vt.target.toPhoneNumber, policy);
      try {
        return { ...vt, hours: narrowWindow({ start, end, source }, ask.callingWindow) };
      } catch (error) {
        if (!(error instanceof CallingWindowError)) throw error;
        return { ...vt, hours: { never: error.message } };
      }
    });
  };
  return {
    /**
     * Reads and validates every target once, before approval. Large lists stay out of history: only counts and the
     * first refusals are returned, with a hash of the file that later page reads must match.
     */
    async inspectCampaignTargets(source: InspectSource): Promise<InspectedTargets> {
      // Settings checked here are decided once and recorded with the verdict, like the targets themselves.
      if (source.defaultTimezone !== undefined && !isTimeZone(source.defaultTimezone)) {
        return {
          ok: false,
          message: `callingWindow.defaultTimezone ${source.defaultTimezone} is not an IANA zone this worker knows.`,
        };
      }
      if (source.pace && source.pace.calls * rateLimit.windowMs > rateLimit.count * source.pace.windowMs) {
        return {
          ok: false,
          message:
            `callsPerMinute ${source.pace.calls} per ${source.pace.windowMs} ms is above the API key's ceiling of ` +
            `${rateLimit.count} per ${rateLimit.windowMs} ms (AGENTPHONE_RATE_LIMIT).`,
        };
      }
      try {
        if (source.targetsCsvPath !== undefined) {
          const { hash, valid, refusals, rows } = await targets.inspect(source.targetsCsvPath);
          return {
            ok: true,
            inspection: await withPolicy(summarize(hash, rows, valid.length, refusals, refusalsKept), valid, source),
            indexed: searchAttributes,
            ...(gated ? { gated } : {}),
          };
        }
        const { valid, refusals, rows } = validateTargets(inlineRows(source.targets));
        const inspection = await withPolicy(
          summarize('inline', rows, valid.length, refusals, refusalsKept),
          valid,
          source,
        );
        const inlineValid = withHours(valid, source.recipientHours);
        return { ok: true, inspection, inlineValid, indexed: searchAttributes, ...(gated ? { gated } : {}) };
      } catch (error) {
        if (error instanceof TargetsFileError)
          return { ok: false, message: error.message, ...(error.line ? { line: error.line } : {}) };
        throw error;
      }
    },

    /**
     * Valid targets [from, from + count) of the approved file; fails if the file changed since it was inspected. The
     * worker keeps the file's targets after its first read, and each page proves the file unchanged before it is cut.
     */
    async loadCampaignTargets(page: {
      targetsCsvPath: string;
      sourceHash: string;
      from: number;
      count: number;
      recipientHours?: RecipientHoursAsk;
    }): Promise<ValidTarget[]> {
      let valid;
      try {
        valid = await targets.approved(page.targetsCsvPath, page.sourceHash);
      } catch (error) {
        if (error instanceof TargetsFileError) {
          throw ApplicationFailure.create({
            type: FailureType.InvalidInput,
            message: error.message,
            nonRetryable: true,
          });
        }
        throw error;
      }
      return withHours(valid.slice(page.from, page.from + page.count), page.recipientHours);
    },

    /** The calling window's status in each zone. In an activity, so that tz database updates never alter replay. */
    async callingWindows(query: {
      zones: string[];
      window: CallingWindow;
      at: number;
    }): Promise<Record<string, WindowStatus>> {
      return Object.fromEntries(query.zones.map((zone) => [zone, windowStatus(zone, query.window, query.at)]));
    },

    /**
     * The outcome of a call workflow that an earlier run of the same campaign started (the id exists already):
     * waits for it if it still runs. Never starts anything, so the target is never dialed twice.
     */
    async existingCallOutcome(workflowId: string, campaignId?: string): Promise<ExistingCall> {
      const handle = getClient().workflow.getHandle(workflowId);
      const beat = setInterval(() => heartbeat(), 5_000);
      try {
        if (campaignId !== undefined) {
          // Proof that this campaign started it: the server records a child's parent, and no client can set it.
          const { parentExecution, type } = await handle.describe();
          if (parentExecution?.workflowId !== campaignId || type !== 'placeCallWorkflow') {
            const owner = parentExecution ? `a child of ${parentExecution.workflowId}` : 'not started by a campaign';
            return { conflict: `${workflowId} exists and is ${owner} (${type}): it is not this target's call.` };
          }
        }
        return { result: (await handle.result()) as CallResult };
      } catch (error) {
        if (error instanceof WorkflowFailedError) {
          const { type, message, details } = failureOf(error);
          const callId = (details[0] as { callId?: unknown } | undefined)?.callId;
          return { failureType: type, message, ...(typeof callId === 'string' ? { callId } : {}) };
        }
        log.warn('could not read an existing call workflow', { workflowId, attempt: activityInfo().attempt });
        throw error;
      } finally {
        clearInterval(beat);
      }
    },
  };
}

export type CampaignActivities = ReturnType<typeof createCampaignActivities>;

/**
 * The inspection with what the contact policy says of its valid targets now, for the preview (a worker with a store
 * only). Advisory, so a store that cannot be read is reported, not fatal: every dial asks the policy again, and the
 * campaign never dials on this verdict.
 */
async function screened(
  contacts: ContactPolicyDeps,
  inspection: TargetsInspection,
  valid: readonly ValidTarget[],
  { recipientHours: ask, defaultTimezone }: InspectSource,
): Promise<TargetsInspection> {
  const at = Date.now();
  const preview: PolicyPreview = { at: new Date(at).toISOString(), doNotCall: 0, capped: 0, cappedBy: {} };
  if (ask) {
    const applied = contacts.policy.campaignHours;
    // Without a zone of its own, a target takes the campaign's defaultTimezone, or is skipped.
    const noTimezone = applied && !defaultTimezone ? valid.filter((vt) => !vt.target.timezone).length : 0;
    preview.recipientHours = { applied, noTimezone };
  }
  try {
    const verdicts = await contacts.store.screen(
      valid.map(({ target }) => ({
        number: target.toPhoneNumber,
        caps: capsFor(target.toPhoneNumber, contacts.policy).filter((cap) => cap.scope === 'number'),
      })),
      at,
    );
    let until = 0;
    for (const verdict of verdicts) {
      if (verdict.kind === 'do_not_call') preview.doNotCall++;
      if (verdict.kind !== 'capped') continue;
      preview.capped++;
      preview.cappedBy[verdict.cap] = (preview.cappedBy[verdict.cap] ?? 0) + 1;
      until = Math.max(until, verdict.allowedAt);
    }
    if (until) preview.cappedUntil = new Date(until).toISOString();
  } catch (error) {
    log.warn('could not screen the campaign targets against the contact policy', { error: storeFault(error) });
    preview.unavailable = `the contact store could not be read (${storeFault(error)})`;
  }
  return { ...inspection, policy: preview };
}
