import { createHmac } from 'node:crypto';
import { maskPhoneNumber } from '../shared/mask';
import { InvalidPhoneNumberError } from './errors';

// Numbers at rest. The DNC list keeps numbers in plain E.164: an operator must list, export and audit it, and a
// regulator's list is public to the caller anyway. The contact log (contact_reservations) keeps a keyed hash
// (HMAC-SHA256) and the masked form the logs already show ("+1415•••0123"): it answers "was this number contacted,
// and when" for a caller who has the number, while a dump or an export of the log alone does not say whom the business
// called. A plain SHA-256 would not do: E.164 numbers are few enough (about 10^10 a country) to hash them all, so
// only a secret key keeps the hashes from being reversed by enumeration.
//
// The key comes from AGENTPHONE_CONTACT_HASH_KEY, kept apart from the database (a secret store): then a copy of the
// whole database does not reveal the numbers. Without it the store generates a random key once and keeps it in its
// own contact_store_settings table: the log's table alone, an analytics copy of it, or a leaked log line still say
// nothing, and no two installations share hashes, but whoever holds the whole database holds the key too and can
// enumerate. Either way the masked form leaves 3 digits hidden, which narrows a number down to 1,000 candidates
// without the key, and none with it.

/** E.164: "+", a country code that does not start with 0, at most 15 digits; 7 at least (Niue's numbers are 7). */
const e164Pattern = /^\+[1-9]\d{6,14}$/;

/** What is wrong with `value` as an E.164 number, or undefined when it is one. */
export function e164Problem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `is ${value === null ? 'null' : typeof value}, not text`;
  if (e164Pattern.test(value)) return undefined;
  if (value.trim() === '') return 'is empty';
  if (!value.startsWith('+')) return 'does not start with +';
  const rest = value.slice(1);
  if (/[^\d]/.test(rest)) return 'holds characters other than digits after the +';
  if (rest.startsWith('0')) return 'has a country code starting with 0';
  return `has ${rest.length} digits, and E.164 has 7 to 15`;
}

/** `value`, checked to be E.164. Throws {@link InvalidPhoneNumberError}, naming the value masked (and the line). */
export function requireE164(value: unknown, line?: number): string {
  const problem = e164Problem(value);
  if (problem === undefined) return value as string;
  throw new InvalidPhoneNumberError(maskValue(value), problem, line);
}

/**
 * Any value as a message may show it: a letter or digit becomes "•" but for the last four digits of a value with at
 * least eight, so "(415) 555-0123" shows as "(•••) •••-0123" and a name pasted in the wrong column as "•••• •••••".
 * Control characters go, and a long value is cut.
 */
export function maskValue(value: unknown): string {
  if (typeof value !== 'string') return String(value);
  if (e164Pattern.test(value)) return maskPhoneNumber(value);
  const text = value.replace(/\p{Cc}/gu, '').slice(0, 32);
  const digits = text.replace(/\D/g, '').length;
  let keep = digits >= 8 ? 4 : 0;
  const masked = [...text]
    .reverse()
    .map((char) => (/\d/.test(char) && keep-- > 0 ? char : /[\p{L}\p{N}]/u.test(char) ? '•' : char))
    .reverse()
    .join('');
  return value.length > 32 ? `${masked}…` : masked;
}

/** The contact log's view of a number: a keyed hash, the masked form, and a key for serialising per number. */
export class NumberHasher {
  /** HMAC-SHA256 of a fixed label: tells whether a key is the one the log was hashed with, and says nothing of it. */
  readonly fingerprint: string;
  // A private field: util.inspect and JSON.stringify never show it.
  readonly #key: Buffer;

  constructor(key: Buffer) {
    this.#key = key;
    this.fingerprint = createHmac('sha256', key).update('agentphone contact-store key check v1').digest('hex');
  }

  /** Hex HMAC-SHA256 of the E.164 number. */
  hash(e164: string): string {
    return createHmac('sha256', this.#key).update(e164).digest('hex');
  }

  /** A signed 32-bit key for pg_advisory_xact_lock: numbers that share one only wait for each other. */
  static lockKey(hash: string): number {
    return Buffer.from(hash.slice(0, 8), 'hex').readInt32BE(0);
  }

  static mask(e164: string): string {
    return maskPhoneNumber(e164);
  }
}
