import {
  ApplicationFailure,
  CompleteAsyncError,
  type Logger,
  type LogLevel,
  type LogMetadata,
  TemporalFailure,
} from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { maskPersonalField, maskPersonalText, personalField } from '../shared/mask';
import { type Redact, redactDeep } from '../shared/redact';

/**
 * The worker's last line of defence for secrets: every activity result and failure (message, details, stack) passes
 * the redactor before the SDK records it in history. The HTTP client already removes the key from what the API
 * sends; this catches whatever else could carry it (a file parser quoting a file, a library's error message).
 * Failures that hold nothing to redact are rethrown untouched, so retry semantics never change.
 */
export function redactingActivityInterceptor(redact: Redact): ActivityInterceptorsFactory {
  return () => ({
    inbound: {
      async execute(input, next) {
        let result: unknown;
        try {
          result = await next(input);
        } catch (error) {
          throw redactFailure(error, redact);
        }
        return redactDeep(result, redact);
      },
    },
  });
}

function redactFailure(error: unknown, redact: Redact): unknown {
  // Not a failure: the activity is completed by someone else (the key's dial gate hands over its offer).
  if (!(error instanceof Error) || error instanceof CompleteAsyncError) return error;
  const isApplication = error instanceof ApplicationFailure;
  // Cancellation and the SDK's other failures carry no text of ours: leave them to the SDK.
  if (error instanceof TemporalFailure && !isApplication) return error;
  const message = redact(error.message, 2_000);
  const stack = error.stack === undefined ? undefined : redact(error.stack, 8_000);
  const details = isApplication ? redactDeep(error.details ?? [], redact) : undefined;
  const unchanged =
    message === error.message &&
    stack === error.stack &&
    (!isApplication || JSON.stringify(details) === JSON.stringify(error.details ?? []));
  if (unchanged) return error;
  const failure = ApplicationFailure.create({
    type: isApplication ? (error.type ?? undefined) : error.name,
    message,
    nonRetryable: isApplication ? Boolean(error.nonRetryable) : false,
    details: details ?? [],
    ...(isApplication && error.nextRetryDelay !== undefined ? { nextRetryDelay: error.nextRetryDelay } : {}),
  });
  if (stack !== undefined) failure.stack = stack;
  return failure;
}

/**
 * Wraps a logger so that no line it writes, message or metadata, holds a secret or personal data: secrets are
 * redacted, phone numbers masked ("+1415•••0100") wherever they appear, and the attributes that carry personal text
 * (objective, transcript, summary, business name) say `[omitted]`. Errors in the metadata (the SDK's "Activity
 * failed") are logged as copies with the same treatment.
 */
export function redactingLogger(inner: Logger, redact: Redact): Logger {
  // Masked before the length bound, so a cut can never leave the head of a number unmasked.
  const text = (value: string, maxLength: number) =>
    redact(maskPersonalText(redact(value, Number.MAX_SAFE_INTEGER)), maxLength);
  const clean = (message: string, meta?: LogMetadata): [string, LogMetadata | undefined] => [
    text(message, 4_000),
    meta === undefined ? undefined : (cleanLogValue(meta, text, new WeakSet()) as LogMetadata),
  ];
  const at =
    (level: LogLevel) =>
    (message: string, meta?: LogMetadata): void =>
      inner.log(level, ...clean(message, meta));
  return {
    log: (level, message, meta) => inner.log(level, ...clean(message, meta)),
    trace: at('TRACE'),
    debug: at('DEBUG'),
    info: at('INFO'),
    warn: at('WARN'),
    error: at('ERROR'),
  };
}

type Text = (value: string, maxLength: number) => string;

/** A log attribute with every string cleaned, personal fields omitted or masked; its shape kept, symbols included. */
function cleanLogValue(value: unknown, text: Text, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return text(value, Number.MAX_SAFE_INTEGER);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (value instanceof Error) return cleanError(value, text, seen);
  if (Array.isArray(value)) {
    seen.add(value);
    return value.map((v: unknown) => cleanLogValue(v, text, seen));
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  seen.add(value);
  const out: Record<PropertyKey, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[text(key, 200)] = cleanField(key, v, text, seen);
  // The SDK's LogTimestamp rides on a symbol key: keep it, so a workflow's line keeps its workflow time.
  for (const symbol of Object.getOwnPropertySymbols(value)) out[symbol] = (value as Record<symbol, unknown>)[symbol];
  return out;
}

function cleanField(key: string, value: unknown, text: Text, seen: WeakSet<object>): unknown {
  const personal = personalField(key);
  return personal ? maskPersonalField(personal, value) : cleanLogValue(value, text, seen);
}

/** A copy of `error` to log: message, stack, own fields (a failure's type, details) and causes cleaned. */
function cleanError(error: Error, text: Text, seen: WeakSet<object>): Error {
  seen.add(error);
  const copy = new Error(text(error.message, 4_000));
  Object.defineProperty(copy, 'name', { value: error.name, enumerable: false, configurable: true, writable: true });
  if (error.stack === undefined) delete copy.stack;
  else copy.stack = text(error.stack, 8_000);
  const fields = copy as unknown as Record<string, unknown>;
  for (const [key, v] of Object.entries(error)) {
    // A TemporalFailure's `failure` is the raw proto it was decoded from: it repeats the message, uncleaned.
    if (key === 'failure' || key === 'cause') continue;
    fields[key] = cleanField(key, v, text, seen);
  }
  if (error.cause !== undefined) copy.cause = cleanLogValue(error.cause, text, seen);
  return copy;
}
