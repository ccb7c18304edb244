import { error, json, rateLimited, serverError, unauthorized, type Exchange, type Reply } from './http';
import { behaviourOf, scenarioOf } from './scenarios';
import type { SimulatorState } from './state';
import type { CallRecord } from './store';
import { fingerprintOf, parseCreateCallBody } from './validation';

/** `credits_remaining` must stay a JSON number for clients, and `JSON.stringify(Infinity)` is `null`. */
function creditsRemaining(credits: number): number {
  return Number.isFinite(credits) ? credits : Number.MAX_SAFE_INTEGER;
}

/** The 202 body; an idempotent replay answers the same `data` as the original create. */
function accepted(call: CallRecord, credits: number): Reply {
  const data = { call_id: call.callId, status: 'queued', created_at: new Date(call.createdAt).toISOString() };
  return json(202, { data, credits_remaining: creditsRemaining(credits) });
}

/** `POST /api/v1/calls`. The checks run in the contract's order: auth, body, idempotency, rate limit, credits. */
export async function createCall(state: SimulatorState, exchange: Exchange): Promise<Reply> {
  if (!exchange.apiKeyValid) return unauthorized();
  if (exchange.body === undefined) return error(400, 'invalid_input', 'The body is larger than 1 MiB');
  const parsed = parseCreateCallBody(exchange.body);
  if (!parsed.ok) return error(400, 'invalid_input', parsed.message);
  const { input } = parsed;
  exchange.notes.toPhoneNumber = input.to_phone_number;
  const scenario = scenarioOf(input.to_phone_number);
  if (state.refuses(scenario, 400)) {
    return error(400, 'invalid_input', `${input.to_phone_number} is a test number whose calls are always refused`);
  }

  // A replay answers before the rate limit and credit checks: it uses neither a slot nor a credit.
  const fingerprint = fingerprintOf(input);
  const key = exchange.idempotencyKey;
  const honoured = key !== undefined && state.idempotency === 'honour';
  const known = honoured ? state.idempotencyKeys.lookup(key, fingerprint, state.config.now()) : undefined;
  if (known?.kind === 'conflict') {
    return error(409, 'conflict', 'This Idempotency-Key was used with a different body. Use a new key for a new call.');
  }
  const replayed = known?.kind === 'replay' ? state.calls.get(known.callId) : undefined;
  if (replayed !== undefined) {
    exchange.notes.callId = replayed.callId;
    return accepted(replayed, state.credits);
  }

  if (state.refuses(scenario, 429)) return rateLimited(state.window.windowMs);
  const waitMs = state.window.waitMs(state.config.now());
  if (waitMs !== undefined) return rateLimited(waitMs);
  if (state.refuses(scenario, 402) || state.credits < 1) {
    return error(402, 'insufficient_credits', 'No credits left. Add credits to the AgentPhone account.');
  }
  if (state.refuses(scenario, 500)) return serverError(500);

  // No await between the idempotency lookup and here, so concurrent requests with one key create one call.
  const call = state.createCall(input, scenario, key, fingerprint);
  exchange.notes.callId = call.callId;
  const reply = accepted(call, state.credits);
  // The call exists before the slow or held response, so a client that gives up and retries with the
  // same key must get this call back: that is what these waits are for.
  if (behaviourOf(scenario).slowCreate) await state.waits.sleep(state.config.slowCreateMs);
  await state.waits.whileHeld();
  return reply;
}
