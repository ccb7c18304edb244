// The do-not-call list's commands, as the CLI and backends send them to doNotCallWorkflow: the workers hold the
// store, so an operator needs Temporal access only, never the database's credentials.

/** Numbers per `import` command: a CSV of any length is sent in commands of this many rows, one after another. */
export const dncImportChunkRows = 5_000;

export type DncCommand =
  | { op: 'add'; number: string; by: string; reason?: string; source?: string }
  | { op: 'remove'; number: string; by: string }
  | { op: 'check'; number: string }
  | { op: 'list'; offset: number; limit: number }
  | { op: 'import'; rows: { number: string; line: number }[]; by: string; source: string; reason?: string };

/** A listed number as the workflow returns it (`at` as an ISO date). */
export interface DncListing {
  number: string;
  by: string;
  at: string;
  reason?: string;
  source?: string;
}

export type DncAnswer =
  | { op: 'add'; entry: DncListing }
  | { op: 'remove'; removed: boolean }
  | { op: 'check'; listed: boolean; entry?: DncListing }
  | { op: 'list'; entries: DncListing[]; total: number }
  | { op: 'import'; added: number; updated: number };
