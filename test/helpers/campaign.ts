import type { Client, WorkflowHandle } from '@temporalio/client';
import { expect } from 'vitest';
import { campaignProgressQuery, type callCampaignWorkflow } from '../../src/workflows';
import type { CampaignProgress, CampaignState } from '../../src/workflows/campaign-types';

export type CampaignHandle = WorkflowHandle<typeof callCampaignWorkflow>;

/** Polls the progress query (real time) until `predicate` holds. */
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

/** Largest number of timestamps inside any window of `windowMs` (half-open), e.g. creates per minute. */
export function maxInAnyWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

export async function childIds(client: Client, campaignId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH "${campaignId}-"` })) ids.push(wf.workflowId);
  return ids;
}

export function expectCounts(progress: CampaignProgress, expected: Partial<CampaignProgress['counts']>): void {
  expect(progress.counts).toMatchObject(expected);
}
