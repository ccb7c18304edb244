import {
  ApplicationFailure,
  CompleteAsyncError,
  type Logger,
  type LogLevel,
  type LogMetadata,
  TemporalFailure,
} from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
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

/** Wraps a logger so that no line it writes, message or metadata, holds a secret. */
export function redactingLogger(inner: Logger, redact: Redact): Logger {
  const clean = (message: string, meta?: LogMetadata): [string, LogMetadata | undefined] => [
    redact(message, 4_000),
    meta === undefined ? undefined : redactDeep(meta, redact),
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
