import { randomBytes } from 'node:crypto';
import type { Database } from './database';
import { lockClasses } from './database';
import { HashKeyMismatchError } from './errors';
import { NumberHasher } from './numbers';

export const hashKeyEnvVar = 'AGENTPHONE_CONTACT_HASH_KEY';

const generatedKeySetting = 'number_hash_key';
const fingerprintSetting = 'number_hash_key_fingerprint';

/**
 * The hasher of the contact log: over the configured key, or over the key generated at the store's first open and
 * kept in it (see numbers.ts for what each protects). The key's fingerprint is kept too, so that a store opened with
 * another key than the one its log was hashed with refuses to open: its caps would silently count nothing.
 */
export function loadHasher(db: Database, configuredKey: string | undefined): Promise<NumberHasher> {
  // Under the migrations' lock: two processes opening a new store at once must not generate two keys.
  return db.withSessionLock({ classId: lockClasses.migrations, objectId: 0 }, async (session) => {
    const rows = await session.query<{ name: string; value: string }>(
      'SELECT name, value FROM contact_store_settings WHERE name = ANY($1::text[])',
      [[generatedKeySetting, fingerprintSetting]],
    );
    const settings = new Map(rows.map((row) => [row.name, row.value]));
    const generated = settings.get(generatedKeySetting);
    const fingerprint = settings.get(fingerprintSetting);

    // A new store (no fingerprint yet) without a configured key generates its own: random text, used as UTF-8 bytes
    // like a configured key.
    const key =
      configuredKey ?? generated ?? (fingerprint === undefined ? randomBytes(32).toString('base64url') : null);
    if (key === null) {
      throw new HashKeyMismatchError(
        `The contact log was hashed with a key from ${hashKeyEnvVar}, which is not set now: set it again ` +
          '(caps would not count the contacts already logged without it).',
      );
    }
    const hasher = new NumberHasher(Buffer.from(key, 'utf8'));
    if (fingerprint !== undefined && fingerprint !== hasher.fingerprint) {
      throw new HashKeyMismatchError(
        configuredKey === undefined
          ? "The contact store's generated key does not match its fingerprint: its settings table was edited."
          : `${hashKeyEnvVar} is not the key the contact log was hashed with: set the key it was first opened ` +
              `with${generated === undefined ? '' : ` (or unset ${hashKeyEnvVar}: the store had generated its own)`}.`,
      );
    }
    if (fingerprint === undefined) {
      await session.transaction(async (tx) => {
        const insert = 'INSERT INTO contact_store_settings (name, value) VALUES ($1, $2)';
        if (configuredKey === undefined) await tx.query(insert, [generatedKeySetting, key]);
        await tx.query(insert, [fingerprintSetting, hasher.fingerprint]);
      });
    }
    return hasher;
  });
}
