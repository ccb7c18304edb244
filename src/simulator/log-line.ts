/** Control and format characters that would let a printed line rewrite the terminal or read as something else. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const unprintable = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/**
 * A log line as the simulator may print it: the key, in the forms a path or a hostile call id can carry it (plain,
 * JSON-escaped, percent-encoded), becomes `[key]`, and control characters become `\uXXXX`. Deliberately its own
 * code rather than the package's redactor: the simulator is the oracle the package's redaction is tested against.
 */
export function logLine(line: string, apiKey: string): string {
  let out = line;
  const forms = [apiKey, JSON.stringify(apiKey).slice(1, -1), encodeURIComponent(apiKey)];
  for (const form of [...new Set(forms)].sort((a, b) => b.length - a.length)) out = out.split(form).join('[key]');
  return out.replace(unprintable, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
