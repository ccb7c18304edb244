import type { IncomingMessage, RequestListener } from 'node:http';
import { createCall } from './create-call';
import type { FaultKind } from './faults';
import { getCall } from './get-call';
import { hostileReply } from './hostile';
import {
  error,
  htmlError,
  json,
  malformedJson,
  notFound,
  raw,
  readBody,
  send,
  serverError,
  type Exchange,
  type Reply,
} from './http';
import type { SimulatorState } from './state';
import { recording } from './wav';

type Route =
  | { kind: 'create' }
  | { kind: 'get'; callId: string }
  | { kind: 'recording'; callId: string }
  | { kind: 'health' }
  | { kind: 'unknown' };

function routeOf(method: string, path: string): Route {
  if (method === 'POST' && path === '/api/v1/calls') return { kind: 'create' };
  if (method !== 'GET') return { kind: 'unknown' };
  const callId = /^\/api\/v1\/calls\/([^/]+)$/.exec(path)?.[1];
  if (callId !== undefined) return { kind: 'get', callId: decoded(callId) };
  const recordingId = /^\/recordings\/([^/]+)\.wav$/.exec(path)?.[1];
  if (recordingId !== undefined) return { kind: 'recording', callId: decoded(recordingId) };
  if (path === '/healthz') return { kind: 'health' };
  return { kind: 'unknown' };
}

/** Path segments arrive percent-encoded, and hostile call ids need it; a malformed escape is taken as it is. */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const faultReplies: Record<Exclude<FaultKind, 'delay'>, () => Reply> = {
  status500: () => serverError(500),
  status503: () => serverError(503),
  reset: () => ({ kind: 'reset' }),
  malformedJson,
  html: htmlError,
};

export function createListener(state: SimulatorState): RequestListener {
  return (req, res) => {
    handle(state, req).then(
      ({ reply, entry }) => {
        send(res, reply);
        state.record(entry);
      },
      (cause: unknown) => {
        // Only a bug or a client that vanished mid-body gets here; answer what a real API would.
        state.log(`simulator error on ${req.method} ${req.url}: ${String(cause)}`);
        if (!res.headersSent) send(res, serverError(500));
      },
    );
  };
}

async function handle(state: SimulatorState, req: IncomingMessage) {
  const at = state.config.now();
  const method = req.method ?? 'GET';
  const path = new URL(req.url ?? '/', 'http://simulator').pathname;
  const route = routeOf(method, path);
  const exchange: Exchange = {
    body: route.kind === 'create' ? await readBody(req) : '',
    apiKeyValid: req.headers['x-api-key'] === state.config.apiKey,
    idempotencyKey: headerOf(req, 'idempotency-key'),
    origin: `http://${req.headers.host ?? `${req.socket.localAddress}:${req.socket.localPort}`}`,
    notes: route.kind === 'get' ? { callId: route.callId } : {},
  };
  const answer = await replyTo(state, route, exchange);
  // Only the API's own routes turn hostile; the key echoed is whatever the request sent.
  const api = route.kind === 'create' || route.kind === 'get';
  const reply = api ? hostileReply(state.hostility, answer, headerOf(req, 'x-api-key')) : answer;
  const entry = {
    at,
    method,
    path,
    status: reply.kind === 'reset' ? ('reset' as const) : reply.status,
    apiKeyValid: exchange.apiKeyValid,
    ...(exchange.idempotencyKey !== undefined && { idempotencyKey: exchange.idempotencyKey }),
    ...exchange.notes,
  };
  return { reply, entry };
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function replyTo(state: SimulatorState, route: Route, exchange: Exchange): Promise<Reply> | Reply {
  switch (route.kind) {
    case 'create':
      state.stats.createRequests += 1;
      return withFault(state, 'create', () => createCall(state, exchange));
    case 'get':
      state.stats.getRequests += 1;
      return withFault(state, 'get', () => getCall(state, exchange, route.callId));
    case 'recording':
      return state.calls.get(route.callId) === undefined
        ? notFound(`No recording for ${route.callId}`)
        : raw(200, 'audio/wav', recording);
    case 'health':
      return json(200, { ok: true });
    case 'unknown':
      return error(404, 'not_found', 'No such endpoint');
  }
}

/** Applies the next pending fault for this route, before the handler runs or, for `afterCreate`, after it. */
async function withFault(
  state: SimulatorState,
  route: 'create' | 'get',
  respond: () => Promise<Reply> | Reply,
): Promise<Reply> {
  const fault = state.faults.take(route);
  if (fault === undefined) return respond();
  state.countFault(fault.kind);
  const afterCreate = route === 'create' && fault.afterCreate === true;
  if (fault.kind === 'delay') {
    const delay = () => state.waits.sleep(fault.delayMs ?? 0);
    if (!afterCreate) await delay();
    const reply = await respond();
    if (afterCreate) await delay();
    return reply;
  }
  if (afterCreate) await respond();
  return faultReplies[fault.kind]();
}
