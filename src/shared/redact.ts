// One redaction step for every text that can reach a failure, a log line or history: API error bodies, call ids,
// file-parser messages, URLs. It removes the secrets it is given (the API key, credentials in AGENTPHONE_BASE_URL)
// in the forms they can take inside text (plain, JSON-escaped, percent-encoded), strips control characters and
// bounds the length. Free of imports, so the simulator, the CLI and the worker share it.

export const redactedMark = '[redacted]';

export type Redact = (text: string, maxLength?: number) => string;

/** Secrets shorter than this are not searched for: they would redact ordinary words. */
const minSecretLength = 4;

/** @default maxLength 500 characters */
export function createRedactor(secrets: readonly (string | undefined)[], defaultMax = 500): Redact {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret || secret.length < minSecretLength) continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(encodeURIComponent(secret));
  }
  const needles = [...forms].sort((a, b) => b.length - a.length);
  return (text, maxLength = defaultMax) => {
    let out = String(text);
    for (const needle of needles) out = out.split(needle).join(redactedMark);
    return bound(stripControls(out), maxLength);
  };
}

/** Applies `redact` to every string inside a JSON-like value (keys included), leaving its shape as it was. */
export function redactDeep<T>(value: T, redact: Redact): T {
  if (typeof value === 'string') return redact(value, Number.MAX_SAFE_INTEGER) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v, redact)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k), redactDeep(v, redact)])) as T;
  }
  return value;
}

/**
 * Removes C0/C1 controls except newline and tab, ANSI escape sequences, and the bidi/format characters that let a
 * string print as something else on a terminal.
 */
export function stripControls(text: string): string {
  /* eslint-disable no-control-regex -- matching control characters is the point */
  return text
    .replace(/\u001b\[[0-?]*[ -/]*[@-~]/g, '')
    .replace(/\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?/g, '')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g, '');
  /* eslint-enable no-control-regex */
}

function bound(text: string, maxLength: number): string {
  const chars = [...text];
  return chars.length <= maxLength ? text : `${chars.slice(0, Math.max(0, maxLength - 1)).join('')}…`;
}
