import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Database, Queryable, Session } from './database';
import { lockDataDir } from './lock-file';

/** Where the embedded store keeps PGlite's files, inside the data directory (beside its lock file). */
export function embeddedDatabaseDir(dataDir: string): string {
  return join(resolve(dataDir), 'pglite');
}

/**
 * PGlite (PostgreSQL compiled to WASM, in this process) over `dataDir`, which this process then holds alone (see
 * lock-file.ts). One backend: its statements and transactions run one at a time, which is all one worker needs.
 */
export async function openEmbeddedDatabase(dataDir: string): Promise<Database> {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lock = lockDataDir(dir);
  let pg: PGlite;
  try {
    pg = await PGlite.create({ dataDir: embeddedDatabaseDir(dir) });
  } catch (error) {
    lock.release();
    throw error;
  }

  const session: Session = {
    query: (text, params) => queryOn(pg, text, params),
    transaction: (fn) => pg.transaction((tx) => fn(queryable(tx))),
  };
  return {
    kind: 'embedded',
    ...session,
    async withSessionLock({ classId, objectId }, fn) {
      await pg.query('SELECT pg_advisory_lock($1, $2)', [classId, objectId]);
      try {
        return await fn(session);
      } finally {
        await pg.query('SELECT pg_advisory_unlock($1, $2)', [classId, objectId]);
      }
    },
    async close() {
      try {
        await pg.close();
      } finally {
        lock.release();
      }
    },
  };
}

function queryable(tx: Transaction): Queryable {
  return { query: (text, params) => queryOn(tx, text, params) };
}

async function queryOn<Row>(on: PGlite | Transaction, text: string, params?: readonly unknown[]): Promise<Row[]> {
  const result = await on.query<Row>(text, params ? [...params] : undefined);
  return result.rows;
}
