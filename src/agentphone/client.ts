import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { createRedactor, type Redact, redactDeep, redactedMark } from '../shared/redact';
import { AgentPhoneHttpError, AgentPhoneNetworkError, AgentPhoneResponseError } from './errors';
import { createCallResponseSchema, errorBodySchema, getCallResponseSchema } from './schemas';
import type { CallStatus } from './statuses';

export const defaultBaseUrl = 'https://agentphone.app/api/v1';

export interface AgentPhoneClientOptions {
  apiKey: string;
  /** @default 'https://agentphone.app/api/v1' */
  baseUrl?: string;
  /** Per-request timeout. @default 15000 */
  timeoutMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** The fields of `POST /calls`, in this package's names. */
export interface CreateCallRequest {
  toPhoneNumber: string;
  objective: string;
  businessName?: string;
  website?: string;
}

export interface CreatedCall {
  callId: string;
  status: CallStatus;
  createdAt?: string;
  creditsRemaining?: number;
}

export interface CallDetails {
  callId: string;
  status: CallStatus;
  /** As the API reported it: usually `achieved`, `partial` or `not_achieved`. */
  outcome?: string;
  summary?: string;
  transcript?: string;
  recordingUrl?: string;
  durationSeconds?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface AgentPhoneClient {
  createCall(request: CreateCallRequest, options?: RequestOptions & { idempotencyKey?: string }): Promise<CreatedCall>;
  getCall(callId: string, options?: RequestOptions): Promise<CallDetails>;
  /** Removes this client's API key from a text (and bounds it): for anything that may reach a log or history. */
  redact?: Redact;
  /** A hash of the key that names it (its dial gate) without revealing it. */
  keyFingerprint?: string;
}

/**
 * A thin client for the AgentPhone API. It knows the HTTP contract and nothing of Temporal:
 * every non-2xx answer is an {@link AgentPhoneHttpError}, every missing answer an {@link AgentPhoneNetworkError},
 * every 2xx answer it cannot read an {@link AgentPhoneResponseError}.
 *
 * Whatever the API sends back, the key never leaves this client: it is removed from every string of every answer
 * (a hostile or buggy API may echo it in an error body, a call id or a transcript) before anything reads them.
 */
export function createAgentPhoneClient(options: AgentPhoneClientOptions): AgentPhoneClient {
  const { apiKey, baseUrl = defaultBaseUrl, timeoutMs = 15_000, fetch: fetchImpl = globalThis.fetch } = options;
  const root = baseUrl.replace(/\/+$/, '');
  const redact = createRedactor([apiKey]);

  async function request<S extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    schema: S,
    init: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal },
  ): Promise<z.output<S>> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await fetchImpl(`${root}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          'x-api-key': apiKey,
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...init.headers,
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal,
      });
    } catch (error) {
      const reason = timeout.aborted ? `no answer within ${timeoutMs} ms` : describeNetworkError(error);
      throw new AgentPhoneNetworkError(redact(`${method} ${where(path)} failed: ${reason}`), !neverSent(error), {
        cause: redact(String(error)),
      });
    }

    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      const reason = describeNetworkError(error);
      throw new AgentPhoneNetworkError(
        redact(`${method} ${where(path)} failed while reading the body: ${reason}`),
        true,
      );
    }
    if (!response.ok) throw httpError(response, text, redact);

    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new AgentPhoneResponseError(
        `${method} ${where(path)} answered ${response.status} with a body that is not JSON`,
        response.status,
      );
    }
    const idProblem = callIdProblem(json, apiKey);
    if (idProblem)
      throw new AgentPhoneResponseError(
        `${method} ${where(path)} answered ${response.status} with ${idProblem}`,
        response.status,
      );
    json = redactDeep(json, redact);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') || 'body';
      throw new AgentPhoneResponseError(
        redact(
          `${method} ${where(path)} answered ${response.status} without the contract's fields (${field}: ${issue?.message})`,
        ),
        response.status,
      );
    }
    return parsed.data;
  }

  return {
    redact,
    keyFingerprint: keyFingerprint(apiKey),

    async createCall(call, { idempotencyKey, signal } = {}) {
      const body = await request('POST', '/calls', createCallResponseSchema, {
        body: {
          to_phone_number: call.toPhoneNumber,
          objective: call.objective,
          ...(call.businessName === undefined ? {} : { business_name: call.businessName }),
          ...(call.website === undefined ? {} : { website: call.website }),
        },
        headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
        signal,
      });
      return {
        callId: body.data.call_id,
        status: body.data.status,
        ...(body.data.created_at === undefined ? {} : { createdAt: body.data.created_at }),
        ...(body.credits_remaining === undefined ? {} : { creditsRemaining: body.credits_remaining }),
      };
    },

    async getCall(callId, { signal } = {}) {
      const { data } = await request('GET', `/calls/${encodeURIComponent(callId)}`, getCallResponseSchema, { signal });
      return definedOnly({
        callId: data.call_id,
        status: data.status,
        outcome: data.outcome ?? undefined,
        summary: data.summary || undefined,
        transcript: data.transcript || undefined,
        recordingUrl: data.recording_url ?? undefined,
        durationSeconds: data.duration_seconds ?? undefined,
      });
    },
  };
}

/** 16 hex digits of a hash of the key: enough to tell keys apart, useless to anyone who wants the key. */
export function keyFingerprint(apiKey: string): string {
  return createHash('sha256').update(`agentphone-api-key\n${apiKey}`).digest('hex').slice(0, 16);
}

/**
 * A call id names the call in every later request, in history and in reports: it must be usable as it is. One that
 * holds the key (it would be stored in history) or that is not plain printable ASCII is refused, not altered.
 */
function callIdProblem(json: unknown, apiKey: string): string | undefined {
  const id = (json as { data?: { call_id?: unknown } } | null)?.data?.call_id;
  if (typeof id !== 'string') return undefined; // the schema reports it
  if (apiKey.length >= 4 && id.includes(apiKey)) return `a call id that contains the API key (${redactedMark})`;
  if (!/^[\x21-\x7e]{1,128}$/.test(id)) return 'a call id that is not 1–128 printable ASCII characters';
  return undefined;
}

/** A request's path as it may be printed: a call id is data from the API, bounded like any other. */
function where(path: string): string {
  return path.length > 80 ? `${path.slice(0, 79)}…` : path;
}

/** Connection refused, DNS and TLS failures happen before a byte of the request is sent. */
const neverSentCodes = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

function neverSent(error: unknown): boolean {
  const cause = error instanceof Error ? error.cause : undefined;
  const code = cause instanceof Error ? (cause as NodeJS.ErrnoException).code : undefined;
  return code !== undefined && neverSentCodes.has(code);
}

function httpError(response: Response, text: string, redact: Redact): AgentPhoneHttpError {
  let code: string | undefined;
  let message: string | undefined;
  try {
    const body = errorBodySchema.safeParse(redactDeep(JSON.parse(text), redact));
    if (body.success) {
      const { error } = body.data;
      code = typeof error === 'object' ? error.code : undefined;
      message = typeof error === 'string' ? error : (error?.message ?? body.data.message);
    }
  } catch {
    // An HTML error page from a proxy: the status says enough.
  }
  const retryAfter = Number(response.headers.get('retry-after'));
  return new AgentPhoneHttpError(
    response.status,
    message === undefined ? `AgentPhone answered HTTP ${response.status}` : redact(message, 300),
    code === undefined ? undefined : redact(code, 64),
    // Seconds only, bounded: a date or a hostile value is ignored and the contract's 60 s applies.
    Number.isFinite(retryAfter) && retryAfter >= 0 && retryAfter <= 3600 ? retryAfter : undefined,
  );
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code ? `${code} ${cause.message}` : cause.message;
  }
  return error.message;
}

function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
