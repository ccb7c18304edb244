/** Temporal could not be reached: the address or the credentials are wrong, or the server is down. */
export function isConnectionError(error: unknown): error is Error {
  const text =
    error instanceof Error ? `${error.message} ${String((error.cause as Error | undefined)?.message ?? '')}` : '';
  return /Failed to connect before the deadline|UNAVAILABLE|ECONNREFUSED|ENOTFOUND|Name resolution failed|connection refused/i.test(
    text,
  );
}
