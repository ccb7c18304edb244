// The contact policy's store: a do-not-call list and a contact log with frequency caps, in PostgreSQL
// (AGENTPHONE_DATABASE_URL) or in an embedded PostgreSQL (PGlite) in a data directory. Read by activities only:
// nothing a workflow replays depends on it. No Temporal imports.
import type { Database } from './database';
import { openEmbeddedDatabase } from './embedded';
import { loadHasher } from './hash-key';
import { migrate } from './migrations';
import { type ContactStoreOptions, defaultDataDir } from './options';
import { openPostgresDatabase } from './postgres';
import { createContactStore } from './store';
import type { ContactStore } from './types';

/**
 * Opens the store: PostgreSQL when `databaseUrl` is set, else the embedded store in `dataDir` (held by this process
 * alone until `close()`). Applies any pending migration first.
 */
export async function openContactStore(options: ContactStoreOptions = {}): Promise<ContactStore> {
  const { databaseUrl, dataDir = defaultDataDir, hashKey } = options;
  const db: Database = databaseUrl ? await openPostgresDatabase(databaseUrl) : await openEmbeddedDatabase(dataDir);
  try {
    const migrated = await migrate(db);
    const hasher = await loadHasher(db, hashKey);
    return createContactStore(db, hasher, migrated);
  } catch (error) {
    await db.close();
    throw error;
  }
}

export { embeddedDatabaseDir } from './embedded';
export {
  type BadImportLine,
  ContactStoreConfigError,
  ContactStoreInputError,
  ContactStoreLockedError,
  DncImportError,
  HashKeyMismatchError,
  InvalidPhoneNumberError,
  ReservationConflictError,
  SchemaVersionError,
  UnknownReservationError,
} from './errors';
export { hashKeyEnvVar } from './hash-key';
export { lockFileName } from './lock-file';
export { type Migration, migrations } from './migrations';
export { e164Problem, maskValue } from './numbers';
export {
  type ContactStoreOptions,
  contactStoreOptionsFromEnv,
  dataDirEnvVar,
  databaseUrlEnvVar,
  defaultDataDir,
} from './options';
export {
  type Cap,
  type ContactStore,
  type DncEntry,
  type DncImportResult,
  type DncImportRow,
  type DncList,
  importBatchSize,
  type Reservation,
  type ReserveInput,
} from './types';
