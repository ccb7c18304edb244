import type { Reply } from './http';

/**
 * Hostile responses: what an API as unhelpful as its contract allows could send. Each is off unless switched on;
 * several can be on at once. "The key" is the request's `x-api-key`, right or wrong, for errors and headers, and the
 * simulator's key (the only one that gets that far) for call ids and call fields.
 */
export interface Hostility {
  /**
   * Every error body of `POST /calls` and `GET /calls/:id` (400, 401, 402, 404, 409, 429, 500, 503) echoes the key:
   * as text in `error.message` (so JSON-escaped in the raw body), unicode-escaped in the raw body of a top-level
   * `message` (`"\u0073im_…"`, the key again once parsed) and percent-encoded in `error.docs_url`.
   * @default false
   */
  keyInErrors?: boolean;
  /**
   * Those routes' responses echo the key in headers: `X-Request-Id: req_<key>` on all, `WWW-Authenticate` on 401,
   * and `Retry-After: <key>` in place of the seconds on 429. A key that is not a valid header value is
   * percent-encoded. A request without a key gets none of these.
   * @default false
   */
  keyInHeaders?: boolean;
  /** Those routes' error bodies are over 1 MiB: `error.message` goes on with a long trace. @default false */
  hugeErrors?: boolean;
  /** Call ids carry the key: `cl_<key>_<random>`. @default false */
  keyInIds?: boolean;
  /**
   * Call ids start like spreadsheet formulas, in turn: `=HYPERLINK("http://x","<id>")`, `+1+2_<id>`, `-2-3_<id>`,
   * `@SUM(A1)_<id>`.
   * @default false
   */
  formulaIds?: boolean;
  /** Call ids end with terminal control sequences: ANSI erase-line and colour, CR, BEL, C1 CSI, a bidi override. */
  controlIds?: boolean;
  /**
   * A completed call's `summary`, `transcript` and `outcome` carry the key as text, its `recording_url` as a
   * percent-encoded query (`?key=…`); the recording is still served.
   * @default false
   */
  keyInCalls?: boolean;
  /**
   * A completed call's fields start like spreadsheet formulas: `summary` with `=HYPERLINK("http://x","y")`,
   * `transcript` with `+1+2`, `outcome` with `-2-3`, `recording_url` with `@SUM(A1)`.
   * @default false
   */
  formulaCalls?: boolean;
  /** A completed call's `summary`, `transcript`, `outcome` and `recording_url` end with the control sequences. */
  controlCalls?: boolean;
}

export type HostileBehaviour = keyof Hostility;

/** Every behaviour on or off, as the server reads them. */
export type HostileSet = Readonly<Record<HostileBehaviour, boolean>>;

const friendly: HostileSet = {
  keyInErrors: false,
  keyInHeaders: false,
  hugeErrors: false,
  keyInIds: false,
  formulaIds: false,
  controlIds: false,
  keyInCalls: false,
  formulaCalls: false,
  controlCalls: false,
};

export const hostileBehaviours = Object.keys(friendly) as readonly HostileBehaviour[];

/** `'all'` switches every behaviour on; unknown names are refused, so a typo does not test the friendly path. */
export function hostileSetOf(hostile: Hostility | 'all' = {}): HostileSet {
  if (hostile === 'all') return Object.fromEntries(hostileBehaviours.map((name) => [name, true])) as HostileSet;
  const unknown = Object.keys(hostile).filter((name) => !(hostileBehaviours as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new RangeError(
      `simulator: unknown hostile behaviour ${unknown.join(', ')}; known: ${hostileBehaviours.join(', ')}`,
    );
  }
  return { ...friendly, ...Object.fromEntries(Object.entries(hostile).map(([name, on]) => [name, on === true])) };
}

/** What a terminal makes of it: erase the line, go red, return to column 0, ring, C1 CSI, right-to-left override. */
export const controlSequence = '\u001b[2K\u001b[31m\r\u0007\u009b0m\u202e';

const formulaIdForms: readonly ((id: string) => string)[] = [
  (id) => `=HYPERLINK("http://x","${id}")`,
  (id) => `+1+2_${id}`,
  (id) => `-2-3_${id}`,
  (id) => `@SUM(A1)_${id}`,
];

/** `turn` picks the formula, so consecutive calls show every form. */
export function callIdOf(on: HostileSet, apiKey: string, random: string, turn: number): string {
  let id = on.keyInIds ? `cl_${apiKey}_${random}` : `cl_${random}`;
  if (on.controlIds) id += controlSequence;
  if (on.formulaIds) id = formulaIdForms[turn % formulaIdForms.length]!(id);
  return id;
}

export interface CallFields {
  outcome?: string;
  summary?: string;
  transcript?: string;
  recording_url?: string;
}

type Field = keyof CallFields;

const keyEchoes: Record<Field, (value: string, key: string) => string> = {
  summary: (value, key) => `${value} The account key is ${key}.`,
  transcript: (value, key) => `${value}\nHost: I have your key here, ${key}.`,
  outcome: (value, key) => `${value} ${key}`,
  recording_url: (value, key) => `${value}?key=${encodeURIComponent(key)}`,
};

const formulaPrefixes: Record<Field, string> = {
  summary: '=HYPERLINK("http://x","y") ',
  transcript: '+1+2 ',
  outcome: '-2-3 ',
  recording_url: '@SUM(A1)',
};

/** The key first, then controls, then the formula: whatever else is on, the value still starts like a formula. */
export function hostileCallFields<T extends CallFields>(on: HostileSet, apiKey: string, fields: T): T {
  const out: CallFields = { ...fields };
  for (const field of Object.keys(keyEchoes) as Field[]) {
    let value = out[field];
    if (value === undefined) continue;
    if (on.keyInCalls) value = keyEchoes[field](value, apiKey);
    if (on.controlCalls) value += controlSequence;
    if (on.formulaCalls) value = formulaPrefixes[field] + value;
    out[field] = value;
  }
  return out as T;
}

/** Error bodies and headers of `POST /calls` and `GET /calls/:id`; `requestKey` is the request's `x-api-key`. */
export function hostileReply(on: HostileSet, reply: Reply, requestKey: string | undefined): Reply {
  if (reply.kind !== 'send') return reply;
  const body =
    reply.error !== undefined && (on.keyInErrors || on.hugeErrors)
      ? errorBody(on, reply.error, requestKey)
      : reply.body;
  const headers =
    on.keyInHeaders && requestKey !== undefined
      ? { ...reply.headers, ...keyHeaders(reply.status, requestKey) }
      : reply.headers;
  return { ...reply, headers, body };
}

function errorBody(
  on: HostileSet,
  { code, message }: { code: string; message: string },
  key: string | undefined,
): Buffer {
  const echo = on.keyInErrors && key !== undefined && key !== '';
  let text = echo ? `${message} (x-api-key: ${key})` : message;
  // The key once more after the padding, for clients that redact only what they keep of a long message.
  if (on.hugeErrors) text += `\n${hugeTrace()}${echo ? `x-api-key: ${key}` : ''}`;
  const error = {
    code,
    message: text,
    ...(echo && { docs_url: `https://agentphone.app/docs/errors?key=${encodeURIComponent(key)}` }),
  };
  const json = JSON.stringify({ error });
  // Written by hand: JSON.stringify would never escape a plain letter.
  return Buffer.from(echo ? `${json.slice(0, -1)},"message":"${unicodeEscaped(key)} was not accepted"}` : json);
}

/** The key as JSON string content with its first character `\uXXXX`-escaped: raw text that parses to the key. */
function unicodeEscaped(key: string): string {
  const first = key.charCodeAt(0).toString(16).padStart(4, '0');
  return `\\u${first}${JSON.stringify(key.slice(1)).slice(1, -1)}`;
}

function keyHeaders(status: number, key: string): Record<string, string> {
  // A value Node would refuse to send (it came in as latin1, so only controls can be) is sent percent-encoded.
  const value = /^[\t\x20-\x7e\x80-\xff]*$/.test(key) ? key : encodeURIComponent(key);
  return {
    'X-Request-Id': `req_${value}`,
    ...(status === 401 && { 'WWW-Authenticate': `ApiKey realm="agentphone", key="${value}"` }),
    // Same spelling as the friendly header, so it replaces it rather than adding a second one.
    ...(status === 429 && { 'Retry-After': value }),
  };
}

export const hugeErrorBytes = 1024 * 1024;

let trace: string | undefined;

function hugeTrace(): string {
  const line = '    at handleRequest (/srv/agentphone/api/handlers/calls.js:118:23)\n';
  trace ??= line.repeat(Math.ceil(hugeErrorBytes / line.length));
  return trace;
}
