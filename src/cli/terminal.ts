// How a campaign's data is shown on a terminal: names, ids, summaries and messages come from callers and from the
// API, so every one passes through `field` or `messageText` (text) or `jsonText` (JSON) before it is printed. Text
// is for people (and ends up in scrollback and CI logs): it shows phone numbers masked. JSON is for scripts: as is.
import { maskPhoneNumbers } from '../shared/mask';
import { stripControls } from '../shared/redact';

/** How the commands are shown in hints: the package script that runs the starter CLI. */
export const cli = 'npm run starter -- campaign';

/**
 * A data field (a name, an id, a summary, a message) as a terminal shows it, on one line: without the control
 * characters and escape sequences that could recolour, move the cursor or rewrite the screen, phone numbers masked.
 */
export function field(value: string | number | undefined): string {
  return maskPhoneNumbers(
    stripControls(String(value ?? ''))
      .replace(/\s+/g, ' ')
      .trim(),
  );
}

/** A message (an error, a refusal) as a terminal shows it: like {@link field}, but its lines kept. */
export function messageText(text: string): string {
  return maskPhoneNumbers(stripControls(text));
}

/**
 * JSON for a terminal: JSON.stringify escapes C0 controls but not C1 controls (U+009B starts an escape sequence on
 * some terminals) nor bidi overrides; escaping them too keeps the text a parser reads identical.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** An ISO time as a span from now: "in 23h 59m", "5m ago". */
export function fromNow(iso: string): string {
  const ms = Date.parse(iso) - Date.now();
  if (!Number.isFinite(ms)) return field(iso);
  const minutes = Math.round(Math.abs(ms) / 60_000);
  const span =
    minutes < 1 ? 'under a minute' : minutes < 90 ? `${minutes}m` : `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
  return ms >= 0 ? `in ${span}` : `${span} ago`;
}

export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** A line cut to the terminal's width, so that redrawing it in place never wraps. */
export function fit(text: string): string {
  const columns = process.stdout.columns ?? 120;
  return text.length >= columns ? `${text.slice(0, columns - 2)}…` : text;
}

export const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
