// What a log line or a printed message may show of personal data: a phone number masked ("+1415•••0100"), never
// an objective, a transcript, a summary or a business name. Free of imports, so the worker's logger, the CLI and
// workflow code can share it.

export const omittedMark = '[omitted]';

/**
 * Shows enough of a number to recognise it, and not enough to index it: "+1415•••0100". At least 3 digits are always
 * hidden, so a short number shows less of its head ("+4•••5678"), and one of 7 digits or fewer nothing.
 */
export function maskPhoneNumber(e164: string): string {
  const head = Math.min(5, e164.length - 4 - 3);
  return head < 2 ? '•••' : `${e164.slice(0, head)}•••${e164.slice(-4)}`;
}

// A "+" (plain, percent-encoded or JSON-escaped) and 7 digits or more, single spaces, dots, dashes or brackets
// between them allowed: the shortest numbers that can be called (Niue's) have 7, and a longer run hides no less.
const phoneNumberPattern = /(?:\+|%2[bB]|\\u002[bB])\d(?:[ .()-]{0,2}\d){6,}/g;

/** Masks every E.164-looking number in `text` (see {@link maskPhoneNumber}). */
export function maskPhoneNumbers(text: string): string {
  return text.replace(phoneNumberPattern, (found) => maskPhoneNumber(`+${digitsAfterPlus(found)}`));
}

function digitsAfterPlus(found: string): string {
  const plus = found.startsWith('+') ? 1 : found.startsWith('%') ? 3 : 6;
  return found.slice(plus).replace(/\D/g, '');
}

/** Fields whose whole value is personal text, by {@link fieldKey}: a line says they were there, never what they hold. */
const omittedFields = new Set(['objective', 'transcript', 'summary', 'businessname', 'recordingurl']);
/** Fields that hold a phone number: shown masked, or omitted when they hold something else. */
const numberFields = new Set(['tophonenumber', 'fromphonenumber', 'phonenumber', 'phone']);

/** `to_phone_number`, `toPhoneNumber` and `To-Phone-Number` name one field. */
const fieldKey = (key: string) => key.replace(/[-_\s]/g, '').toLowerCase();

export type PersonalField = 'omit' | 'mask';

/** How a log attribute named `key` is shown: omitted, masked as a number, or (undefined) like any other text. */
export function personalField(key: string): PersonalField | undefined {
  const name = fieldKey(key);
  return omittedFields.has(name) ? 'omit' : numberFields.has(name) ? 'mask' : undefined;
}

/** The value of a personal field as a log line shows it. */
export function maskPersonalField(kind: PersonalField, value: unknown): unknown {
  if (value === undefined || value === null || value === '') return value;
  if (kind === 'mask' && typeof value === 'string' && /^\+\d{7,15}$/.test(value)) return maskPhoneNumber(value);
  return omittedMark;
}

// `"objective": "…"` inside a text (a quoted request body, a serialised object): the value goes, the key stays.
const personalJsonField = /"(objective|transcript|summary|business_?name|recording_?url)"(\s*:\s*)"(?:[^"\\]|\\.)*"/gi;

/** A text as a log line may show it: numbers masked, the personal fields of any JSON inside it omitted. */
export function maskPersonalText(text: string): string {
  return maskPhoneNumbers(
    text.replace(personalJsonField, (_all, key: string, colon: string) => `"${key}"${colon}"${omittedMark}"`),
  );
}
