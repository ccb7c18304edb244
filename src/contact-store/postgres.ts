import { Pool, type PoolClient } from 'pg';
import type { Database, Queryable, Session } from './database';

/** How long a call waits for a connection before it fails (the server down, or every connection busy). */
const connectTimeoutMs = 10_000;

/**
 * A pg Pool over `url`. A connection the server dropped (a restart, a failover) is discarded, and the next call
 * opens a new one: the store reconnects by itself. A call that was running when the server went away fails, and is
 * safe to retry, as every operation of the store is idempotent.
 */
export async function openPostgresDatabase(url: string): Promise<Database> {
  const pool = new Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: connectTimeoutMs,
    application_name: 'agentphone-contact-store',
  });
  // An idle connection the server closes emits 'error' on the pool; the pool drops it. Unhandled, it would crash.
  pool.on('error', () => {});

  const database: Database = {
    kind: 'postgres',
    query: (text, params) => queryOn(pool, text, params),
    transaction: (fn) => withClient(pool, (client) => transactionOn(client, fn)),
    withSessionLock: ({ classId, objectId }, fn) =>
      withClient(pool, async (client) => {
        await client.query('SELECT pg_advisory_lock($1, $2)', [classId, objectId]);
        try {
          const session: Session = {
            query: (text, params) => queryOn(client, text, params),
            transaction: (inner) => transactionOn(client, inner),
          };
          return await fn(session);
        } finally {
          await client.query('SELECT pg_advisory_unlock($1, $2)', [classId, objectId]);
        }
      }),
    close: () => pool.end(),
  };
  // Fail at open, not at the first call, when the database cannot be reached.
  try {
    await database.query('SELECT 1');
  } catch (error) {
    await pool.end();
    throw error;
  }
  return database;
}

async function queryOn<Row>(on: Pool | PoolClient, text: string, params?: readonly unknown[]): Promise<Row[]> {
  const result = await on.query(text, params ? [...params] : undefined);
  return result.rows as Row[];
}

/** Clients whose ROLLBACK failed: their connection is in an unknown state. */
const broken = new WeakSet<PoolClient>();

/** Runs `fn` on a client of its own; a client that failed is destroyed rather than given back to the pool. */
async function withClient<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    return await fn(client);
  } catch (error) {
    // A failed statement leaves the connection usable (the transaction was rolled back); a lost one does not.
    if (isConnectionError(error) || broken.has(client)) failure = error instanceof Error ? error : new Error('lost');
    throw error;
  } finally {
    client.release(failure);
  }
}

async function transactionOn<T>(client: PoolClient, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn({ query: (text, params) => queryOn(client, text, params) });
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => broken.add(client));
    throw error;
  }
}

/** Errors that say the connection itself is gone or unusable, not that a statement failed. */
function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  // No SQLSTATE (a socket error: ECONNRESET, EPIPE, "Connection terminated"), or class 08 / 57P0x (shut down).
  return typeof code !== 'string' || /^(08|57P0)/.test(code) || /^E[A-Z]+$/.test(code);
}
