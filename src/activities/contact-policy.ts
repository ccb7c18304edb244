import { activityInfo, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  type ContactStore,
  ContactStoreInputError,
  DncImportError,
  type DncEntry,
  InvalidPhoneNumberError,
  UnknownReservationError,
} from '../contact-store';
import type { DncAnswer, DncCommand, DncListing } from '../shared/do-not-call';
import { callingHoursFor, capsFor, type ContactPolicy, defaultContactPolicy } from '../policy';
import { windowStatus } from '../shared/calling-window';
import { FailureType } from '../shared/failures';
import { maskPhoneNumber } from '../shared/mask';

/** The contact policy a worker enforces: its rules and the store that remembers every contact. */
export interface ContactPolicyDeps {
  store: ContactStore;
  policy: ContactPolicy;
}

/**
 * The policy check, the last step before a create is sent: the do-not-call list, then the frequency caps, and the
 * contact recorded in the same transaction (ContactStore.reserve). The reservation is named by the workflow run, so a
 * retried attempt or a replayed workflow asks the same question and gets the same verdict, counted once. A refusal
 * is a non-retryable failure of the create activity, so the verdict is recorded in the workflow's history and no
 * request leaves the worker.
 */
export async function reserveContact(
  { store, policy }: ContactPolicyDeps,
  toPhoneNumber: string,
  campaignId: string | undefined,
  /** A redial of the campaign's retry ladder: counted against the number's caps, not the campaign's. */
  ladder = false,
): Promise<void> {
  const verdict = await store.reserve({
    reservationId: reservationIdOf(),
    number: toPhoneNumber,
    ...(campaignId === undefined ? {} : { campaignId }),
    at: Date.now(),
    // A campaign-scoped cap needs a campaign: a single call, and a ladder's redial, by the caps on the number alone.
    caps: capsFor(toPhoneNumber, policy).filter(
      (cap) => cap.scope === 'number' || (campaignId !== undefined && !ladder),
    ),
  });
  switch (verdict.kind) {
    case 'reserved':
      return;
    case 'do_not_call':
      throw doNotCall(toPhoneNumber, verdict.entry);
    case 'capped': {
      const allowedAt = new Date(verdict.allowedAt).toISOString();
      throw ApplicationFailure.create({
        type: FailureType.FrequencyCapped,
        message: `${maskPhoneNumber(toPhoneNumber)} was called as often as the contact policy allows (${verdict.cap}): allowed again at ${allowedAt}.`,
        nonRetryable: true,
        details: [{ cap: verdict.cap, allowedAt }],
      });
    }
  }
}

/**
 * What went wrong with the store, for a failure or a log line: the error's class and code (`Error ECONNREFUSED`),
 * never its message, which a database driver may fill with a host name.
 */
export function storeFault(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return `${error instanceof Error ? error.name : 'Error'}${typeof code === 'string' ? ` ${code}` : ''}`;
}

/** A create that certainly placed nothing (the API refused it): its contact no longer counts. */
export async function releaseContact({ store }: ContactPolicyDeps): Promise<void> {
  await store.release(reservationIdOf());
}

/**
 * The call's end, kept with its reservation. Best effort: a call created before the worker had a store has no
 * reservation, and a store that is down must not fail a call that has already happened.
 */
export async function recordContactOutcome({ store }: ContactPolicyDeps, status: string): Promise<void> {
  try {
    await store.recordOutcome(reservationIdOf(), status, Date.now());
  } catch (error) {
    if (error instanceof UnknownReservationError) return;
    log.warn('could not record the call outcome in the contact store', { error: String(error) });
  }
}

function doNotCall(toPhoneNumber: string, entry: DncEntry): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.DoNotCall,
    message: `${maskPhoneNumber(toPhoneNumber)} is on the do-not-call list (added by ${entry.by} at ${new Date(entry.at).toISOString()}): it is never called.`,
    nonRetryable: true,
    details: [
      {
        by: entry.by,
        at: new Date(entry.at).toISOString(),
        ...(entry.reason === undefined ? {} : { reason: entry.reason }),
        ...(entry.source === undefined ? {} : { source: entry.source }),
      },
    ],
  });
}

/**
 * One reservation per workflow run: its attempts and replays share it, and a new run of the same id (allowed to dial
 * only when the earlier one placed no call) is decided anew, so a number taken off the list can be called again.
 */
function reservationIdOf(): string {
  const { workflowExecution, activityId } = activityInfo();
  return workflowExecution ? `${workflowExecution.workflowId}/${workflowExecution.runId}` : `activity-${activityId}`;
}

/** The do-not-call list's commands (doNotCallWorkflow), on the worker that holds the store. */
export function createDoNotCallActivities(contacts: ContactPolicyDeps | undefined) {
  return {
    async doNotCall(command: DncCommand): Promise<DncAnswer> {
      if (!contacts) {
        throw ApplicationFailure.create({
          type: FailureType.InvalidInput,
          message: 'This worker has no contact store: run the production worker (npm run worker), which opens it.',
          nonRetryable: true,
        });
      }
      try {
        return await runCommand(contacts.store, command);
      } catch (error) {
        // Bad input is the operator's to fix: said once, not retried. The messages show numbers masked.
        if (
          error instanceof InvalidPhoneNumberError ||
          error instanceof DncImportError ||
          error instanceof ContactStoreInputError
        ) {
          throw ApplicationFailure.create({
            type: FailureType.InvalidInput,
            message: error.message,
            nonRetryable: true,
          });
        }
        throw error;
      }
    },
  };
}

async function runCommand(store: ContactStore, command: DncCommand): Promise<DncAnswer> {
  switch (command.op) {
    case 'add': {
      const { number, by, reason, source } = command;
      const entry = await store.dnc.add({
        number,
        by,
        ...(reason === undefined ? {} : { reason }),
        ...(source === undefined ? {} : { source }),
      });
      return { op: 'add', entry: listing(entry) };
    }
    case 'remove':
      return { op: 'remove', removed: await store.dnc.remove(command.number, command.by) };
    case 'check': {
      const entry = await store.dnc.check(command.number);
      return entry ? { op: 'check', listed: true, entry: listing(entry) } : { op: 'check', listed: false };
    }
    case 'list': {
      const { entries, total } = await store.dnc.list({ offset: command.offset, limit: command.limit });
      return { op: 'list', entries: entries.map(listing), total };
    }
    case 'import': {
      const { rows, by, source, reason } = command;
      const result = await store.dnc.importRows(rows, { by, source, ...(reason === undefined ? {} : { reason }) });
      return { op: 'import', ...result };
    }
  }
}

function listing(entry: DncEntry): DncListing {
  return {
    number: entry.number,
    by: entry.by,
    at: new Date(entry.at).toISOString(),
    ...(entry.reason === undefined ? {} : { reason: entry.reason }),
    ...(entry.source === undefined ? {} : { source: entry.source }),
  };
}

/** Whether the recipient's calling hours are open at `at`, by the contact policy; `unknown` when its zone is. */
export type RecipientHours =
  | { kind: 'open'; hours: string }
  | { kind: 'closed'; hours: string; opensAt: number }
  | { kind: 'unknown'; reason: string };

/**
 * The recipient's calling hours (its jurisdiction's, in the zone its number names), evaluated in an activity so that
 * a change of the tables or of the tz database never changes what a running workflow replays.
 */
export function createCallingHoursActivities(contacts: ContactPolicyDeps | undefined) {
  const policy = contacts?.policy ?? defaultContactPolicy;
  return {
    async recipientHours({ toPhoneNumber, at }: { toPhoneNumber: string; at: number }): Promise<RecipientHours> {
      const hours = callingHoursFor(toPhoneNumber, policy);
      if (hours.zone.kind === 'unknown') return { kind: 'unknown', reason: hours.zone.reason };
      const described = `${hours.start}–${hours.end} ${hours.zone.zone} (${hours.source})`;
      const status = windowStatus(hours.zone.zone, hours, at);
      return status.open
        ? { kind: 'open', hours: described }
        : { kind: 'closed', hours: described, opensAt: status.changesAt };
    },
  };
}
