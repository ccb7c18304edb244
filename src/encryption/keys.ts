import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';

/** Comma-separated `<id>:<base64 of 32 bytes>` entries, newest first: the first encrypts, all decrypt. */
export const keysEnvVar = 'AGENTPHONE_ENCRYPTION_KEYS';
/** A file with the same entries, one a line (`#` starts a comment): keeps keys out of the process environment. */
export const keyFileEnvVar = 'AGENTPHONE_ENCRYPTION_KEY_FILE';

/** AES-256: the key is exactly 32 bytes. */
export const keyBytes = 32;
const idPattern = /^[A-Za-z0-9._-]{1,64}$/;
/** Whether `id` can name a key: 1 to 64 of A-Z a-z 0-9 . _ - (never ':', which separates an entry's id and key). */
export const isKeyId = (id: string): boolean => idPattern.test(id);
const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/;

/** The encryption configuration is unusable. Messages name the variable and the entry, never the key material. */
export class EncryptionConfigError extends Error {
  override name = 'EncryptionConfigError';

  constructor(readonly problems: string[]) {
    super(`Invalid encryption configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** One key of the ring. Logged or serialised, it shows its id only. */
export class EncryptionKey {
  constructor(
    readonly id: string,
    readonly key: Buffer,
  ) {}

  toJSON(): { id: string } {
    return { id: this.id };
  }

  [inspect.custom](): string {
    return `EncryptionKey { id: '${this.id}' }`;
  }
}

export interface KeyRing {
  /** The newest key: every payload is encrypted with it. */
  readonly current: EncryptionKey;
  /** Every configured id, newest first. */
  readonly ids: readonly string[];
  /** The key a payload names in its metadata, if it is configured. */
  byId(id: string): EncryptionKey | undefined;
}

/** A ring over `keys`, newest first. Ids must be unique and keys 32 bytes (loadKeyRing checks both with messages). */
export function createKeyRing(keys: readonly EncryptionKey[]): KeyRing {
  const [current] = keys;
  if (!current) throw new EncryptionConfigError(['a key ring needs at least one key']);
  const byId = new Map(keys.map((k) => [k.id, k]));
  if (byId.size !== keys.length) throw new EncryptionConfigError(['key ids must be unique']);
  if (keys.some((k) => k.key.length !== keyBytes)) throw new EncryptionConfigError([`keys must be ${keyBytes} bytes`]);
  return { current, ids: keys.map((k) => k.id), byId: (id) => byId.get(id) };
}

/**
 * The key ring configured by AGENTPHONE_ENCRYPTION_KEYS or AGENTPHONE_ENCRYPTION_KEY_FILE; `undefined` when neither
 * is set (payloads then stay plain). A variable that is set but empty is an error, not "no encryption": a blank
 * substitution must not quietly turn encryption off. Every problem is reported together.
 * @throws EncryptionConfigError
 */
export function loadKeyRing(env: NodeJS.ProcessEnv = process.env): KeyRing | undefined {
  const inline = env[keysEnvVar];
  const file = env[keyFileEnvVar];
  if (inline !== undefined && file !== undefined) {
    throw new EncryptionConfigError([`${keysEnvVar} and ${keyFileEnvVar} are both set: keep one.`]);
  }
  if (inline !== undefined) {
    return parseEntries(
      inline.split(',').map((text, index) => ({ text, where: `${keysEnvVar} entry ${index + 1}` })),
      keysEnvVar,
    );
  }
  if (file !== undefined) {
    const source = `${keyFileEnvVar} (${file})`;
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new EncryptionConfigError([`${source}: cannot read the file (${code}).`]);
    }
    return parseEntries(
      content
        .split(/\r?\n/)
        .map((line, index) => ({ text: line.replace(/#.*$/, ''), where: `${source} line ${index + 1}` })),
      source,
    );
  }
  return undefined;
}

/** A fresh random key as one `<id>:<base64>` entry, e.g. a demo's throwaway key. Print it nowhere it would persist. */
export function generateKey(prefix = 'demo'): string {
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '');
  return `${prefix}-${stamp}:${randomBytes(keyBytes).toString('base64')}`;
}

function parseEntries(entries: { text: string; where: string }[], source: string): KeyRing {
  const problems: string[] = [];
  const keys: EncryptionKey[] = [];
  const seen = new Set<string>();
  for (const { text, where } of entries) {
    const entry = text.trim();
    if (entry === '') continue;
    const colon = entry.indexOf(':');
    if (colon < 0) {
      problems.push(`${where} is not <id>:<base64 key>.`);
      continue;
    }
    const id = entry.slice(0, colon).trim();
    const encoded = entry.slice(colon + 1).trim();
    // An invalid id is never quoted: it may be key material pasted in the wrong place.
    if (!idPattern.test(id)) {
      problems.push(`${where}: the id must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'.`);
      continue;
    }
    const label = `${where} (id '${id}')`;
    if (seen.has(id)) {
      problems.push(`${label}: the id is used by an earlier entry; ids must be unique.`);
      continue;
    }
    seen.add(id);
    const key = base64Pattern.test(encoded) ? Buffer.from(encoded, 'base64') : undefined;
    if (!key || key.toString('base64') !== encoded) {
      problems.push(`${label}: the key is not valid base64.`);
    } else if (key.length !== keyBytes) {
      problems.push(`${label}: the key is ${key.length} bytes after base64 decoding; it must be ${keyBytes}.`);
    } else {
      keys.push(new EncryptionKey(id, key));
    }
  }
  if (problems.length === 0 && keys.length === 0) {
    problems.push(`${source} is set but holds no key: give at least one <id>:<base64 key>, or unset it.`);
  }
  if (problems.length > 0) throw new EncryptionConfigError(problems);
  return createKeyRing(keys);
}
