// The contact store's failures, one small class each. Messages show numbers masked, never a hash key or a password,
// and say what to do next. Callers (activities) tell them apart by `name`, which never changes.

/** A value given as a phone number is not E.164 (`+` then 7 to 15 digits, the first not 0). */
export class InvalidPhoneNumberError extends Error {
  override name = 'InvalidPhoneNumberError';

  constructor(
    /** The value as a message may show it: digits masked but the last four. */
    readonly masked: string,
    /** What is wrong with it, e.g. "does not start with +". */
    readonly problem: string,
    /** Its line in an imported file, when it came from one. */
    readonly line?: number,
  ) {
    super(
      `${line === undefined ? '' : `Line ${line}: `}${JSON.stringify(masked)} is not an E.164 number: ${problem}. ` +
        'Write it as + then the country code and the number, digits only, e.g. +14155551234.',
    );
  }
}

/** One bad line of a DNC import. */
export interface BadImportLine {
  line: number;
  /** The value as a message may show it (see {@link InvalidPhoneNumberError.masked}). */
  masked: string;
  problem: string;
}

/** A DNC import had bad lines: nothing of it was written. Lists the first {@link DncImportError.shownLimit} of them. */
export class DncImportError extends Error {
  override name = 'DncImportError';

  /** How many bad lines an error lists (it counts them all). */
  static readonly shownLimit = 20;

  constructor(
    /** The first bad lines, in file order. */
    readonly badLines: readonly BadImportLine[],
    /** Every bad line of the file, listed or not. */
    readonly badLineCount: number,
  ) {
    const shown = badLines.map((bad) => `  - line ${bad.line}: ${JSON.stringify(bad.masked)} ${bad.problem}`);
    const more = badLineCount > badLines.length ? [`  - and ${badLineCount - badLines.length} more`] : [];
    super(
      `The DNC import was refused and nothing was written: ${badLineCount} line(s) are not E.164 numbers ` +
        `(+ then the country code and the number, digits only, e.g. +14155551234). Fix them and import again:\n` +
        [...shown, ...more].join('\n'),
    );
  }
}

/** Another process (or this one) has the embedded store's data directory open. */
export class ContactStoreLockedError extends Error {
  override name = 'ContactStoreLockedError';

  constructor(
    readonly dataDir: string,
    readonly lockFile: string,
    /** The process that holds it, when the lock file names one. */
    readonly holder?: { pid: number; host: string },
  ) {
    super(
      `The contact store in ${dataDir} is in use by ${holder ? `process ${holder.pid} on ${holder.host}` : 'another process'}: the embedded store ` +
        'serves one process only. Run several workers against one PostgreSQL database (set AGENTPHONE_DATABASE_URL), ' +
        `or give each its own AGENTPHONE_DATA_DIR. If no such process runs any more, delete ${lockFile}.`,
    );
  }
}

/** The contact store's environment is unusable. Lists every problem; never shows a password or the hash key. */
export class ContactStoreConfigError extends Error {
  override name = 'ContactStoreConfigError';

  constructor(readonly problems: string[]) {
    super(`Invalid contact store configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** The contact log was hashed with another key than the one configured now: caps would no longer count it. */
export class HashKeyMismatchError extends Error {
  override name = 'HashKeyMismatchError';

  constructor(message: string) {
    super(message);
  }
}

/** The database's schema is newer than this code's migrations: a newer version of the package has opened it. */
export class SchemaVersionError extends Error {
  override name = 'SchemaVersionError';

  constructor(
    readonly databaseVersion: number,
    readonly knownVersion: number,
  ) {
    super(
      `The contact store's schema is at version ${databaseVersion}, and this code knows versions up to ` +
        `${knownVersion}: upgrade agentphone-temporal on this machine to the version that migrated it.`,
    );
  }
}

/** A reservation id was used again for another number or campaign, or asked for a change its state forbids. */
export class ReservationConflictError extends Error {
  override name = 'ReservationConflictError';

  constructor(
    readonly reservationId: string,
    message: string,
  ) {
    super(message);
  }
}

/** An outcome was recorded for a reservation id that never reserved a contact. */
export class UnknownReservationError extends Error {
  override name = 'UnknownReservationError';

  constructor(readonly reservationId: string) {
    super(
      `No contact was reserved under ${JSON.stringify(reservationId)}: record an outcome only after reserve() ` +
        'answered "reserved" for that id.',
    );
  }
}

/** An argument other than a phone number is out of range (a cap, a page, an empty `by`). */
export class ContactStoreInputError extends Error {
  override name = 'ContactStoreInputError';

  constructor(message: string) {
    super(message);
  }
}
