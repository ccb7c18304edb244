/** A number on the do-not-call list. */
export interface DncEntry {
  /** E.164, kept in plain text: the list is the operator's to read and export. */
  number: string;
  /** Who put it there (an operator, a system, "import"). */
  by: string;
  reason?: string;
  /** Where it came from: "opt-out", a regulator's list, a file name. */
  source?: string;
  /** When it was added or last updated, in epoch ms. */
  at: number;
}

/** A ceiling on contacts of one number: at most `limit` in any `windowMs`. */
export interface Cap {
  limit: number;
  windowMs: number;
  /** `number`: every reservation of the number counts; `campaign`: only those with the same campaignId. */
  scope: 'number' | 'campaign';
  /** Named in a `capped` verdict, e.g. "3 a week". */
  name: string;
}

export type Reservation =
  | { kind: 'reserved'; reservationId: string; at: number }
  | { kind: 'do_not_call'; entry: DncEntry }
  /** `allowedAt`: the epoch ms at which, with no other contact, the cap lets one more through. */
  | { kind: 'capped'; cap: string; allowedAt: number };

/** What the policy would say of a number now, without reserving anything: the preview's question. */
export type Screening =
  { kind: 'clear' } | { kind: 'do_not_call' } | { kind: 'capped'; cap: string; allowedAt: number };

export interface ScreenInput {
  number: string;
  /** Caps on the number only: a campaign's own caps count its calls, and a previewed campaign has placed none. */
  caps: readonly Cap[];
}

/** Numbers screened per query pair. */
export const screenBatchSize = 1000;

export interface ReserveInput {
  /** The idempotency key: a Temporal workflow id. The same id asked again gets the first verdict back. */
  reservationId: string;
  number: string;
  campaignId?: string;
  /** The contact's time in epoch ms: caps count reservations in (at - windowMs, ∞). */
  at: number;
  caps: readonly Cap[];
}

export interface DncImportRow {
  number: string;
  /** Its line in the source file, named in errors. */
  line: number;
}

export interface DncImportResult {
  /** Numbers that were not on the list. */
  added: number;
  /** Every other valid line: a number already listed (its who, when, reason and source updated) or repeated. */
  updated: number;
}

export interface DncList {
  /** Puts a number on the list, or updates who, when, reason and source when it is on it already. */
  add(entry: { number: string; by: string; reason?: string; source?: string; at?: number }): Promise<DncEntry>;
  /** Takes a number off the list; false when it was not on it. `by` is kept in the change log. */
  remove(number: string, by: string): Promise<boolean>;
  check(number: string): Promise<DncEntry | undefined>;
  /** A page of the list in number order, and the list's length. */
  list(page: { offset: number; limit: number }): Promise<{ entries: DncEntry[]; total: number }>;
  /**
   * Adds every row in one transaction, in INSERTs of {@link importBatchSize} rows, reading `rows` as it goes (memory
   * stays bounded whatever its length). All or nothing: if any line is not E.164, the whole import is refused with
   * a DncImportError that lists the first 20 bad lines and counts them all, and nothing is written.
   */
  importRows(
    rows: AsyncIterable<DncImportRow> | Iterable<DncImportRow>,
    meta: { by: string; source: string; reason?: string; at?: number },
  ): Promise<DncImportResult>;
}

/** Numbers imported per INSERT … ON CONFLICT statement. */
export const importBatchSize = 1000;

export interface ContactStore {
  readonly kind: 'postgres' | 'embedded';
  /** The migrations this open applied: empty when the schema was up to date. */
  readonly migrated: readonly number[];
  readonly dnc: DncList;
  /**
   * The policy check's atomic half. In one transaction, serialised per number (pg_advisory_xact_lock on the
   * number's hash): a number on the DNC list gets `do_not_call`; one that one more contact would put over a cap gets
   * `capped` (the cap whose window frees last, when several are full); any other gets `reserved`, which counts from
   * then on. Two callers for one number at one instant cannot both pass a cap of 1.
   *
   * Idempotent per reservationId: the same id asked again returns the first verdict, and a reservation counts once.
   * A released one is as if never made: asking again decides anew. Reusing an id for another number or campaign
   * throws ReservationConflictError. After a `capped` verdict, a later attempt takes a new id.
   */
  reserve(input: ReserveInput): Promise<Reservation>;
  /**
   * The verdict each number would get at `at`, in order, reserving nothing: the do-not-call list, then its caps.
   * Two queries per {@link screenBatchSize} numbers, so a campaign's preview reads the store in bounded memory. A
   * verdict may change before the dial: `reserve` decides then.
   */
  screen(entries: readonly ScreenInput[], at: number): Promise<Screening[]>;
  /**
   * After the call ends: keeps its outcome with the reservation (which counts whatever the outcome). Idempotent;
   * another outcome for the same id throws ReservationConflictError, an id never reserved UnknownReservationError.
   */
  recordOutcome(reservationId: string, outcome: string, at: number): Promise<void>;
  /**
   * For a reservation whose create was certainly never sent: it stops counting. Idempotent, and a no-op for an id
   * that reserved nothing; throws ReservationConflictError once an outcome is recorded (the call happened).
   */
  release(reservationId: string): Promise<void>;
  close(): Promise<void>;
}
