/** Control and format characters that would let a printed line rewrite the terminal or read as something else. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const unprintable = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

// "+" (or "%2B") and 7 digits or more: a number a caller sent, in a path or an error, is never printed whole.
const phoneNumber = /(?:\+|%2B)(\d{7,})/gi;

/**
 * A log line as the simulator may print it: the key, in the forms a path or a hostile call id can carry it (plain,
 * JSON-escaped, percent-encoded), becomes `[key]`; a phone number of 11 digits or more shows its first 4 and last 4
 * (`+1415•••0100`), a shorter one none; control characters become `\uXXXX`. Lines name a request (method, path,
 * status, call id), never its body, so no objective or transcript reaches them. Deliberately its own code rather than
 * the package's redactor and masking: the simulator is the oracle the package's redaction is tested against.
 */
export function logLine(line: string, apiKey: string): string {
  let out = line;
  const forms = [apiKey, JSON.stringify(apiKey).slice(1, -1), encodeURIComponent(apiKey)];
  for (const form of [...new Set(forms)].sort((a, b) => b.length - a.length)) out = out.split(form).join('[key]');
  out = out.replace(phoneNumber, (_found, digits: string) =>
    digits.length < 11 ? '+•••' : `+${digits.slice(0, 4)}•••${digits.slice(-4)}`,
  );
  return out.replace(unprintable, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
