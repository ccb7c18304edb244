// Reading a campaign's progress: the query while it runs, its result once it has completed, and why when it failed.
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { callCampaignWorkflow } from '../workflows';
import type { CampaignProgress } from '../shared/campaign-types';
import { failureOf } from '../shared/failures';
import { campaignProgressQuery } from '../shared/messages';

export type CampaignHandle = WorkflowHandle<typeof callCampaignWorkflow>;

/** The campaign ended without a report: its workflow failed (e.g. the workers could not read the file), or was terminated. */
export class CampaignFailedError extends Error {
  override name = 'CampaignFailedError';

  constructor(
    readonly workflowId: string,
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The campaign's progress: the query while it runs, its result once it has completed (no worker needed then).
 * Throws {@link CampaignFailedError} when the workflow failed or was terminated, `WorkflowNotFoundError` for an unknown id.
 */
export async function campaignProgress(
  handle: CampaignHandle,
): Promise<{ progress: CampaignProgress; closed: boolean }> {
  const { status } = await handle.describe();
  if (status.name === 'RUNNING') return { progress: await handle.query(campaignProgressQuery), closed: false };
  if (status.name === 'COMPLETED') return { progress: await handle.result(), closed: true };
  throw await campaignFailure(handle, status.name);
}

/** Why a closed campaign has no result, read from its failure. */
export async function campaignFailure(handle: CampaignHandle, status: string): Promise<CampaignFailedError> {
  try {
    await handle.result();
  } catch (error) {
    return new CampaignFailedError(handle.workflowId, status, failureOf(error).message);
  }
  return new CampaignFailedError(handle.workflowId, status, `the workflow is ${status.toLowerCase()}`);
}

/** The progress once the campaign has validated its targets (waits a little while it is still validating). */
export async function settledProgress(handle: CampaignHandle, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await campaignProgress(handle);
    if (current.progress.state !== 'validating' || Date.now() > deadline) return current.progress;
    await sleep(250);
  }
}

/**
 * The progress of a campaign just started, once a worker has run it and validated its targets: the settings it
 * resolved. Waits up to `timeoutMs`, then returns the last progress read, or undefined when no worker has answered
 * (none is running, or none has picked the campaign up yet). Throws {@link CampaignFailedError} when it failed at once.
 */
export async function startedProgress(
  client: Client,
  handle: CampaignHandle,
  timeoutMs = 15_000,
): Promise<CampaignProgress | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: CampaignProgress | undefined;
  for (;;) {
    try {
      // The deadline bounds each query too: without a worker, a query waits for one.
      last = (await client.withDeadline(deadline, () => campaignProgress(handle))).progress;
      if (last.state !== 'validating') return last;
    } catch (error) {
      if (error instanceof CampaignFailedError) throw error;
      // The first workflow task has not run yet, or the deadline passed: the next try or the deadline decides.
    }
    if (Date.now() >= deadline) return last;
    await sleep(250);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
