import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a handler answers. Handlers return replies instead of writing, so faults can replace them afterwards. */
export type Reply =
  | {
      readonly kind: 'send';
      readonly status: number;
      readonly headers: Record<string, string>;
      readonly body: Buffer;
      /** What an error body says, so hostile responses can rewrite it. */
      readonly error?: { readonly code: ErrorCode; readonly message: string };
    }
  | { readonly kind: 'reset' };

export type SentReply = Extract<Reply, { kind: 'send' }>;

/** One request as the handlers see it. */
export interface Exchange {
  /** `undefined` when the body was too large to read. */
  readonly body: string | undefined;
  readonly apiKeyValid: boolean;
  readonly idempotencyKey: string | undefined;
  /** `http://host:port` as the client reached us, for absolute URLs that work behind port mappings. */
  readonly origin: string;
  /** What handlers learned, for the request log. */
  readonly notes: { callId?: string; toPhoneNumber?: string };
}

export type ErrorCode =
  'invalid_input' | 'unauthorized' | 'insufficient_credits' | 'rate_limited' | 'not_found' | 'conflict' | 'internal';

export function json(status: number, value: unknown, headers: Record<string, string> = {}): SentReply {
  return raw(status, 'application/json', JSON.stringify(value), headers);
}

export function error(
  status: number,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): SentReply {
  return { ...json(status, { error: { code, message } }, headers), error: { code, message } };
}

export function raw(
  status: number,
  contentType: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): SentReply {
  return { kind: 'send', status, headers: { 'Content-Type': contentType, ...headers }, body: Buffer.from(body) };
}

export function unauthorized(): Reply {
  return error(401, 'unauthorized', 'Missing or wrong x-api-key header. Check AGENTPHONE_API_KEY.');
}

export function notFound(message: string): Reply {
  return error(404, 'not_found', message);
}

export function rateLimited(waitMs: number): Reply {
  // Whole seconds, at least 1: a `Retry-After: 0` would invite a client to retry in a tight loop.
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return error(429, 'rate_limited', `Rate limit reached. Retry after ${seconds} s.`, {
    'Retry-After': String(seconds),
  });
}

export function serverError(status: 500 | 503): Reply {
  const message = status === 500 ? 'Internal server error (simulated)' : 'Service unavailable (simulated)';
  return error(status, 'internal', message);
}

/** A 200 whose body stops mid-object, as when a proxy cuts the response short. */
export function malformedJson(): Reply {
  return raw(200, 'application/json', '{"data": {"call_id": ');
}

/** A gateway's HTML error page, as when a load balancer answers instead of the API. */
export function htmlError(): Reply {
  const page =
    '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n';
  return raw(502, 'text/html; charset=utf-8', page);
}

const maxBodyBytes = 1024 * 1024;

/** The request body as text, or `undefined` if it is larger than any valid create request could be. */
export async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Without setEncoding, a request yields Buffers.
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= maxBodyBytes) chunks.push(chunk);
  }
  return size <= maxBodyBytes ? Buffer.concat(chunks).toString('utf8') : undefined;
}

export function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed) return; // the client gave up while the response was held
  if (reply.kind === 'reset') {
    res.socket?.destroy();
    return;
  }
  res.writeHead(reply.status, { ...reply.headers, 'Content-Length': String(reply.body.length) });
  res.end(reply.body);
}
