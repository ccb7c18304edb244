import { ApplicationFailure } from '@temporalio/common';
import { createsPerWindow } from '../agentphone/contract';

/**
 * The `type` of every non-retryable `ApplicationFailure` this package raises.
 *
 * Workflows, activities, clients and tests all use these names: class names do not survive the wire,
 * these strings do. They are public API: never rename one.
 */
export const FailureType = {
  /** `toPhoneNumber` is not E.164, or not a number that can exist. */
  InvalidPhoneNumber: 'InvalidPhoneNumber',
  /** An emergency number, another short code of some territory, or a premium-rate number. */
  ForbiddenNumber: 'ForbiddenNumber',
  /** Any other field is wrong, or the API answered 400. */
  InvalidInput: 'InvalidInput',
  /** The API answered 401: the API key is missing or wrong. */
  Unauthorized: 'Unauthorized',
  /** The API answered 402: no credits left. */
  InsufficientCredits: 'InsufficientCredits',
  /** The API answered 429 twice in a row, 60 s apart. */
  RateLimited: 'RateLimited',
  /** The call ended with status `failed`. */
  CallFailed: 'CallFailed',
  /** The call ended with status `canceled`. */
  CallCanceled: 'CallCanceled',
  /** The call reached no terminal status before the timeout. */
  CallTimedOut: 'CallTimedOut',
  /** The API answered 404 for a call this workflow created. */
  CallNotFound: 'CallNotFound',
  /** The API kept answering with network errors or 5xx until the retry budget ran out. */
  ApiUnavailable: 'ApiUnavailable',
  /** The API answered something this package cannot understand (malformed body, unknown outcome). */
  UnexpectedResponse: 'UnexpectedResponse',
  /**
   * A create may have reached the API and its answer was lost: whether the person is being called is unknown, so
   * the call is not placed again. Details: the earlier run and when its create was sent.
   */
  CallOutcomeUnknown: 'CallOutcomeUnknown',
  /** The number is on the do-not-call list: nothing was sent. Details: who listed it, when, why. */
  DoNotCall: 'DoNotCall',
  /**
   * One more call would put the number over a frequency cap of the contact policy: nothing was sent. Details: the
   * cap and `allowedAt`, when it lets one more through.
   */
  FrequencyCapped: 'FrequencyCapped',
  /**
   * The call asked for the recipient's calling hours (`callingHours: 'recipient'`) and the number's time zone cannot
   * be told (its prefix spans several zones): it is not dialed blind. Details: why.
   */
  CallingHoursUnknown: 'CallingHoursUnknown',
  /**
   * The contact store (the do-not-call list and the contact log) could not be read or written through every retry
   * of the create, so the policy could not be checked: nothing was sent.
   */
  ContactStoreUnavailable: 'ContactStoreUnavailable',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** What the person who started the call should do next, by failure type. */
export const nextStep: Record<FailureType, string> = {
  InvalidPhoneNumber: 'Pass the number in E.164 form, e.g. +14155551234.',
  ForbiddenNumber: 'Emergency, short-code and premium-rate numbers are never called. Use a regular number.',
  InvalidInput: 'Fix the named field and start the call again.',
  Unauthorized: 'Check AGENTPHONE_API_KEY on the worker.',
  InsufficientCredits: 'Top up credits at https://agentphone.app/dashboard, then start the call again.',
  RateLimited: `The API allows ${createsPerWindow} calls a minute. Wait a minute and start the call again.`,
  CallFailed: 'The call could not be completed. Check the number, then start the call again.',
  CallCanceled: 'The call was canceled at AgentPhone. Start it again if it is still wanted.',
  CallTimedOut: 'The call did not finish in time. Look it up by its call id before calling again.',
  CallNotFound: 'AgentPhone no longer knows this call id. Look it up in the dashboard before calling again.',
  ApiUnavailable: 'AgentPhone was unreachable. Check AGENTPHONE_BASE_URL and the service status, then retry.',
  UnexpectedResponse: 'AgentPhone answered in a form this package does not understand. Report it with the call id.',
  CallOutcomeUnknown:
    'A create was sent and its answer lost. Look the call up in the AgentPhone dashboard (by number and time) before calling again.',
  DoNotCall:
    'The number is on the do-not-call list and is never called. Remove it only if the person asked to be called.',
  FrequencyCapped: 'The number was called as often as the contact policy allows. Start the call again after allowedAt.',
  CallingHoursUnknown:
    "The recipient's time zone cannot be told from the number, so its calling hours cannot be checked: nothing was sent.",
  ContactStoreUnavailable:
    "The worker could not reach its contact store (AGENTPHONE_DATABASE_URL's PostgreSQL): nothing was sent. Start the call again once it is up.",
};

/** What a failure says, read through whatever wraps it. */
export interface FailureReading {
  /** The ApplicationFailure's type (one of FailureType when `known`), or 'Unknown'. */
  type: string;
  message: string;
  details: unknown[];
  /** Whether `type` is one of this package's FailureType names. */
  known: boolean;
}

/**
 * The one reader of failures: the first ApplicationFailure down the cause chain of any wrapper (a client's
 * WorkflowFailedError, a parent's ChildWorkflowFailure, an ActivityFailure), else the deepest cause's message (a
 * termination's reason, a timeout) as type 'Unknown'.
 */
export function failureOf(error: unknown): FailureReading {
  let deepest: unknown = error;
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof ApplicationFailure) {
      const type = e.type ?? 'Unknown';
      return { type, message: e.message, details: e.details ?? [], known: type in FailureType };
    }
    deepest = e;
  }
  return {
    type: 'Unknown',
    message: deepest instanceof Error ? deepest.message : String(deepest),
    details: [],
    known: false,
  };
}
