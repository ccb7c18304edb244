// A variant of placeCallWorkflow for benchmark 3 only, bundled on its own: the status reads are local activities.
// It keeps what decides the cost (guard rails as a local activity, create as an activity, one timer per poll) and
// leaves out what does not differ between the two designs (429 waits, enrichment, search attributes).
import { ApplicationFailure, proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../../src/activities';
import { terminalStatuses } from '../../src/agentphone/statuses';
import type { PlaceCallInput } from '../../src/shared/call-types';

const { prepareCall, getCall } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 8 },
});

const { createCall } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 6 },
});

export async function localPollCallWorkflow(input: PlaceCallInput): Promise<{ callId: string; polls: number }> {
  const prepared = await prepareCall(input);
  if (!prepared.ok) throw ApplicationFailure.nonRetryable(prepared.message, prepared.type);
  const created = await createCall(prepared.request);
  if (created.kind !== 'created') throw ApplicationFailure.nonRetryable('rate limited', 'RateLimited');
  for (let polls = 1; ; polls++) {
    await sleep(prepared.timing.pollIntervalMs);
    const call = await getCall(created.callId);
    if (call.kind === 'call' && terminalStatuses.includes(call.status)) return { callId: created.callId, polls };
  }
}
