// `campaign status [--watch]`: the campaign's state, counts and ETA, once or followed until it ends.
import { WorkflowFailedError } from '@temporalio/client';
import type { CampaignProgress } from '../../shared/campaign-types';
import { campaignProgressQuery } from '../../shared/messages';
import { exitCode, withClient } from '../connection';
import { printStatus, progressLine } from '../print';
import { type CampaignHandle, campaignFailure, campaignProgress, sleep } from '../progress';
import { fit, jsonText } from '../terminal';

export async function showStatus(id: string, opts: { watch?: boolean; json?: boolean }): Promise<number> {
  return withClient(async (client) => {
    const handle: CampaignHandle = client.workflow.getHandle(id);
    if (opts.watch) return watch(handle, opts.json ?? false);
    const { progress } = await campaignProgress(handle);
    if (opts.json) console.log(jsonText(progress));
    else printStatus(progress);
    return exitCode.ok;
  });
}

/** Redraws one progress line every second (plain lines when not a terminal) until the campaign's workflow ends. */
async function watch(handle: CampaignHandle, json: boolean): Promise<number> {
  const { status } = await handle.describe();
  if (status.name !== 'RUNNING' && status.name !== 'COMPLETED') throw await campaignFailure(handle, status.name);
  const tty = !json && Boolean(process.stdout.isTTY);
  let ended = false;
  const result = handle.result().then(
    (progress) => ({ progress }),
    (error: unknown) => ({ error }),
  );
  void result.then(() => (ended = true));
  let last = '';
  const show = (p: CampaignProgress) => {
    const text = json ? jsonText(p) : progressLine(p, tty);
    if (text === last) return;
    last = text;
    if (tty) process.stdout.write(`\r${fit(text)}\x1b[K`);
    else console.log(text);
  };
  while (!ended) {
    try {
      show(await handle.query(campaignProgressQuery));
    } catch {
      // Between runs (continue-as-new) or just closed: the next tick or the result says the rest.
    }
    await Promise.race([result, sleep(1000)]);
  }
  const outcome = await result;
  if ('progress' in outcome) {
    show(outcome.progress);
    if (tty) process.stdout.write('\n');
    if (!json) printStatus(outcome.progress);
    return exitCode.ok;
  }
  if (tty) process.stdout.write('\n');
  if (outcome.error instanceof WorkflowFailedError) throw await campaignFailure(handle, 'FAILED');
  throw outcome.error;
}
