import type { WorkflowHandle } from '@temporalio/client';
export { maxInAnyWindow } from '../../bench/helpers/stats';
import { type callCampaignWorkflow } from '../../src/workflows';
import type { CampaignProgress, CampaignState } from '../../src/shared/campaign-types';
import { campaignProgressQuery } from '../../src/shared/messages';

export type CampaignHandle = WorkflowHandle<typeof callCampaignWorkflow>;

/** Polls the progress query (real time, through server restarts) until `predicate` holds. */
export async function waitForProgress(
  handle: CampaignHandle,
  predicate: (p: CampaignProgress) => boolean,
  timeoutMs = 20_000,
): Promise<CampaignProgress> {
  const deadline = Date.now() + timeoutMs;
  let last: CampaignProgress | undefined;
  for (;;) {
    try {
      last = await handle.query(campaignProgressQuery);
      if (predicate(last)) return last;
    } catch {
      // not started by a worker yet
    }
    if (Date.now() > deadline) throw new Error(`progress never matched; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const inState = (state: CampaignState) => (p: CampaignProgress) => p.state === state;
