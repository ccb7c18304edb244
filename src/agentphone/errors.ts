/** The API answered with a non-2xx status. The message comes from the API's error body, never from our headers. */
export class AgentPhoneHttpError extends Error {
  override name = 'AgentPhoneHttpError';

  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    /** Seconds from the `Retry-After` header, when the API sent one. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** No HTTP response at all: connection refused or reset, DNS failure, or our own request timeout. */
export class AgentPhoneNetworkError extends Error {
  override name = 'AgentPhoneNetworkError';

  constructor(
    message: string,
    /**
     * `false` when the request certainly never reached the API (connection refused, DNS, TLS failure before
     * sending); `true` when it may have (a timeout, a reset, a body cut short): a create may then have been placed.
     */
    readonly maybeSent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A 2xx response whose body does not follow the contract (not JSON, or missing fields). */
export class AgentPhoneResponseError extends Error {
  override name = 'AgentPhoneResponseError';

  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}
