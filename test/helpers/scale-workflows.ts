// A workflow bundle for the 10,000-target test: the real campaign, and a stand-in call workflow that creates its call
// once and reports it achieved. The campaign's own scale (paging, continue-as-new, exactly-once dialing) is under test
// there; every rule of a single call is tested against the real placeCallWorkflow in place-call.test.ts.
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../src/activities';
import type { CallResult, PlaceCallInput } from '../../src/shared/call-types';

export { callCampaignWorkflow } from '../../src/workflows/campaign';

const { createCall } = proxyActivities<Activities>({ startToCloseTimeout: '30s' });

export async function placeCallWorkflow({ toPhoneNumber, objective }: PlaceCallInput): Promise<CallResult> {
  const created = await createCall({ toPhoneNumber, objective });
  if (created.kind !== 'created') throw ApplicationFailure.nonRetryable('rate limited', 'RateLimited');
  return { callId: created.callId, status: 'completed', outcome: 'achieved', polls: 0 };
}
