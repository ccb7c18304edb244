import type { z } from 'zod';
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
}

/**
 * A thin client for the AgentPhone API. It knows the HTTP contract and nothing of Temporal:
 * every non-2xx answer is an {@link AgentPhoneHttpError}, every missing answer an {@link AgentPhoneNetworkError},
 * every 2xx answer it cannot read an {@link AgentPhoneResponseError}.
 */
export function createAgentPhoneClient(options: AgentPhoneClientOptions): AgentPhoneClient {
  const { apiKey, baseUrl = defaultBaseUrl, timeoutMs = 15_000, fetch: fetchImpl = globalThis.fetch } = options;
  const root = baseUrl.replace(/\/+$/, '');

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
      throw new AgentPhoneNetworkError(`${method} ${path} failed: ${reason}`, { cause: error });
    }

    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw new AgentPhoneNetworkError(`${method} ${path} failed while reading the body: ${describeNetworkError(error)}`, {
        cause: error,
      });
    }
    if (!response.ok) throw httpError(response, text);

    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new AgentPhoneResponseError(`${method} ${path} answered ${response.status} with a body that is not JSON`, response.status);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.join('.') || 'body';
      throw new AgentPhoneResponseError(
        `${method} ${path} answered ${response.status} without the contract's fields (${where}: ${issue?.message})`,
        response.status,
      );
    }
    return parsed.data;
  }

  return {
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

function httpError(response: Response, text: string): AgentPhoneHttpError {
  let code: string | undefined;
  let message: string | undefined;
  try {
    const body = errorBodySchema.safeParse(JSON.parse(text));
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
    message ?? `AgentPhone answered HTTP ${response.status}`,
    code,
    Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined,
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
