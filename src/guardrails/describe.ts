import { firstCharacters } from './text';

/**
 * The first 40 characters (code points) of a bad value, quoted for a message. A value shaped like a token (a long
 * run of letters and digits, which no phone number has) is not quoted: it may be a secret pasted into the wrong field.
 */
export function quote(value: string): string {
  // Only the part that would be shown is examined, which also keeps the regex cheap on a huge input.
  const shown = firstCharacters(value, 40);
  if (/(?=[\w-]*[A-Za-z])[\w-]{20,}/.test(shown)) return 'a value shaped like a token, not a number';
  return JSON.stringify(value.length > shown.length ? `${shown}…` : shown);
}

/** "a number", "an object", "null": what a value of the wrong type was, without showing the value. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
