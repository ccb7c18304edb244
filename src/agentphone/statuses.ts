// Plain constants, free of zod, so that workflow code can import them into its bundle.

/** The statuses the contract documents. The API may add others: those are treated as "not finished yet". */
export const callStatuses = ['queued', 'dialing', 'in_progress', 'completed', 'failed', 'canceled'] as const;
export type KnownCallStatus = (typeof callStatuses)[number];
/** A status as reported by the API: one of the documented words, or a newer one this package does not know. */
export type CallStatus = KnownCallStatus | (string & {});

export const terminalStatuses: readonly CallStatus[] = ['completed', 'failed', 'canceled'];

export const outcomes = ['achieved', 'partial', 'not_achieved'] as const;
export type CallOutcome = (typeof outcomes)[number];
