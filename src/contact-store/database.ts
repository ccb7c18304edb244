// What the store needs of a database, met alike by a pg Pool and by PGlite: the SQL above it is the same for both.

/** Runs one statement (no `;`-separated scripts: PGlite's extended protocol takes one) and returns its rows. */
export interface Queryable {
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

export interface Session extends Queryable {
  /** Runs `fn` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
}

export interface Database extends Session {
  readonly kind: 'postgres' | 'embedded';
  /**
   * Runs `fn` on one connection holding the session-level advisory lock (`classId`, `objectId`), released after it:
   * how two processes opening one database at once take turns at the migrations.
   */
  withSessionLock<T>(lock: AdvisoryLock, fn: (session: Session) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The two-key form of PostgreSQL's advisory locks: its space is apart from the one-key form's. */
export interface AdvisoryLock {
  classId: number;
  objectId: number;
}

/** This package's advisory lock classes (arbitrary, fixed: other applications on the database use other ones). */
export const lockClasses = {
  migrations: 0x4150_4d01,
  number: 0x4150_4e01,
} as const;
