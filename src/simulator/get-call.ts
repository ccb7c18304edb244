import { summaryOf, transcriptOf } from './content';
import { hostileCallFields } from './hostile';
import {
  htmlError,
  json,
  malformedJson,
  notFound,
  rateLimited,
  serverError,
  unauthorized,
  type Exchange,
  type Reply,
} from './http';
import { behaviourOf, type Behaviour } from './scenarios';
import type { SimulatorState } from './state';
import type { CallRecord } from './store';

const firstReadFaults: Record<NonNullable<Behaviour['onFirstRead']>, () => Reply> = {
  rateLimited: () => rateLimited(1000),
  serverError: () => serverError(500),
  malformedJson,
  html: htmlError,
};

/**
 * `GET /api/v1/calls/:id`. Only GETs answered with the call move it along in `polls` mode:
 * a client that got an error has seen nothing, so it must not miss a status.
 */
export function getCall(state: SimulatorState, exchange: Exchange, callId: string): Reply {
  if (!exchange.apiKeyValid) return unauthorized();
  exchange.notes.callId = callId;
  const call = state.calls.get(callId);
  if (call === undefined) return notFound(`No call with id ${callId}`);
  call.reads += 1;
  const behaviour = behaviourOf(call.scenario);

  if (behaviour.vanishes && call.reads > 1) {
    state.countFault(call.scenario);
    return notFound(`No call with id ${callId}`);
  }
  if (behaviour.onFirstRead !== undefined && call.reads === 1) {
    state.countFault(call.scenario);
    return firstReadFaults[behaviour.onFirstRead]();
  }
  if (call.reads <= behaviour.ringingReads) {
    state.countFault(call.scenario);
    return json(200, { data: { call_id: call.callId, status: 'ringing', created_at: isoOf(call) } });
  }
  if (state.config.lifecycle.progress === 'polls') call.steps += 1;
  return json(200, { data: callData(state, call, exchange.origin) });
}

function isoOf(call: CallRecord): string {
  return new Date(call.createdAt).toISOString();
}

function callData(state: SimulatorState, call: CallRecord, origin: string) {
  const { status, enriched } = state.stateOf(call);
  const base = { call_id: call.callId, status, created_at: isoOf(call) };
  const { ending } = behaviourOf(call.scenario);
  if (status !== 'completed' || ending?.status !== 'completed') return base;
  const fields = {
    outcome: ending.outcome as string,
    ...(enriched && {
      summary: summaryOf(call.input, ending.outcome),
      transcript: transcriptOf(call.input, ending.outcome),
    }),
    // Encoded: a hostile call id can hold any character.
    recording_url: `${origin}/recordings/${encodeURIComponent(call.callId)}.wav`,
  };
  return {
    ...base,
    ...hostileCallFields(state.hostility, state.config.apiKey, fields),
    duration_seconds: state.config.durationSeconds,
  };
}
