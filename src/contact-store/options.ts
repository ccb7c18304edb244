import { resolve } from 'node:path';
import { z } from 'zod';
import { ContactStoreConfigError } from './errors';
import { hashKeyEnvVar } from './hash-key';

export const databaseUrlEnvVar = 'AGENTPHONE_DATABASE_URL';
export const dataDirEnvVar = 'AGENTPHONE_DATA_DIR';
/** The embedded store's data directory when AGENTPHONE_DATA_DIR is not set, under the working directory. */
export const defaultDataDir = '.agentphone';

export interface ContactStoreOptions {
  /**
   * A PostgreSQL URL (`postgres://user:password@host:5432/db`): the store for several workers. When set, `dataDir`
   * is not used.
   */
  databaseUrl?: string;
  /**
   * The embedded store's directory, held by one process at a time.
   * @default '.agentphone' under the working directory
   */
  dataDir?: string;
  /**
   * The contact log's HMAC key (at least 32 characters), kept apart from the database. Without it the store
   * generates one at its first open and keeps it in itself (see numbers.ts for what each protects).
   */
  hashKey?: string;
}

const envSchema = z.object({
  [databaseUrlEnvVar]: z
    .string()
    .trim()
    .refine(
      (value) => /^postgres(ql)?:\/\/./.test(value) && URL.canParse(value),
      // Never echoed: the URL may hold a password.
      `${databaseUrlEnvVar} must be a postgres:// or postgresql:// URL, e.g. postgres://user:password@host:5432/db.`,
    )
    .optional(),
  [dataDirEnvVar]: z.string().trim().min(1).optional(),
  [hashKeyEnvVar]: z
    .string()
    .min(32, `${hashKeyEnvVar} must be at least 32 characters. Make one with: openssl rand -base64 32`)
    .max(512, `${hashKeyEnvVar} is longer than 512 characters: check that only the key was pasted.`)
    .regex(/^[\x21-\x7e]+$/, `${hashKeyEnvVar} holds a space, a control or a non-ASCII character.`)
    .optional(),
});

/**
 * The store's options from the environment, checked once, every problem reported together in a
 * {@link ContactStoreConfigError}. `dataDir` is resolved against `cwd`.
 */
export function contactStoreOptionsFromEnv(env: NodeJS.ProcessEnv, cwd = process.cwd()): ContactStoreOptions {
  const blankless = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === '' ? undefined : v]));
  const parsed = envSchema.safeParse(blankless);
  if (!parsed.success) {
    throw new ContactStoreConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        return issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`;
      }),
    );
  }
  const databaseUrl = parsed.data[databaseUrlEnvVar];
  const hashKey = parsed.data[hashKeyEnvVar];
  return {
    ...(databaseUrl === undefined
      ? { dataDir: resolve(cwd, parsed.data[dataDirEnvVar] ?? defaultDataDir) }
      : { databaseUrl }),
    ...(hashKey === undefined ? {} : { hashKey }),
  };
}
