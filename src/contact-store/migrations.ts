import type { Database, Session } from './database';
import { lockClasses } from './database';
import { SchemaVersionError } from './errors';

/** One step of the schema. Append only: a released migration is never edited, renumbered or removed. */
export interface Migration {
  version: number;
  name: string;
  /** Run in order in one transaction, with the row that records the version. */
  statements: readonly string[];
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'dnc list and contact log',
    statements: [
      // Settings the store keeps about itself: the generated hash key, the key's fingerprint.
      `CREATE TABLE contact_store_settings (
        name text PRIMARY KEY,
        value text NOT NULL
      )`,
      // Numbers in plain E.164 (see numbers.ts for why the list may and the log may not).
      `CREATE TABLE dnc_entries (
        number text PRIMARY KEY CHECK (number ~ '^\\+[1-9][0-9]{6,14}$'),
        added_by text NOT NULL,
        reason text,
        source text,
        added_at_ms bigint NOT NULL
      )`,
      // Who changed the list and when: one row an add or a removal, one row an import (not one a line).
      `CREATE TABLE dnc_changes (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at_ms bigint NOT NULL,
        actor text NOT NULL,
        action text NOT NULL CHECK (action IN ('add', 'remove', 'import')),
        number text,
        source text,
        reason text,
        line_count integer
      )`,
      // Every verdict of reserve(), by reservation id, so that the same id asked again gets the same answer. Only
      // rows with verdict 'reserved' and no released_at_ms count against caps. The number is kept hashed and masked.
      `CREATE TABLE contact_reservations (
        reservation_id text PRIMARY KEY,
        number_hash text NOT NULL,
        number_masked text NOT NULL,
        campaign_id text,
        verdict text NOT NULL CHECK (verdict IN ('reserved', 'do_not_call', 'capped')),
        at_ms bigint NOT NULL,
        cap_name text,
        allowed_at_ms bigint,
        dnc_added_by text,
        dnc_reason text,
        dnc_source text,
        dnc_added_at_ms bigint,
        released_at_ms bigint,
        outcome text,
        outcome_at_ms bigint
      )`,
      `CREATE INDEX contact_reservations_counted ON contact_reservations (number_hash, at_ms)
        WHERE verdict = 'reserved' AND released_at_ms IS NULL`,
    ],
  },
];

const latestVersion = Math.max(...migrations.map((m) => m.version));

/**
 * Brings the schema up to date and returns the versions it applied (none when it was). Holds an advisory lock
 * meanwhile, so that of two processes opening one database at once, one applies each migration and the other then
 * finds it applied.
 */
export function migrate(db: Database): Promise<number[]> {
  return db.withSessionLock({ classId: lockClasses.migrations, objectId: 0 }, (session) => applyMigrations(session));
}

async function applyMigrations(session: Session): Promise<number[]> {
  await session.query(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`,
  );
  const rows = await session.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
  const applied = new Set(rows.map((row) => Number(row.version)));
  const newest = Math.max(0, ...applied);
  if (newest > latestVersion) throw new SchemaVersionError(newest, latestVersion);

  const done: number[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    await session.transaction(async (tx) => {
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
    });
    done.push(migration.version);
  }
  return done;
}
