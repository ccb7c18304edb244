// `campaign approve | reject | pause | resume | cancel`: one command per row of the decision table
// (src/shared/decisions.ts), each sending its update with the argument the table builds.
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { CampaignProgress } from '../../shared/campaign-types';
import { type DecisionName, decisionInput, decisionRules } from '../../shared/decisions';
import { decisionUpdates } from '../../shared/messages';
import { exitCode, withClient } from '../connection';
import { printDecided } from '../print';
import type { CampaignHandle } from '../progress';
import { field, jsonText, messageText } from '../terminal';

/** What each decision command says: its help, and its word once done. */
export const decisionWords: Readonly<Record<DecisionName, { help: string; done: string }>> = {
  approve: { help: 'Approve the campaign (or its pilot): dialing starts.', done: 'Approved' },
  reject: { help: 'Reject the campaign: nobody is dialed.', done: 'Rejected' },
  pause: { help: 'Stop dialing; calls in progress finish.', done: 'Paused' },
  resume: { help: 'Dial again after a pause (after a top-up when credits ran out).', done: 'Resumed' },
  cancel: {
    help: 'End the campaign: nobody more is dialed; calls in progress finish and are reported.',
    done: 'Canceled',
  },
};

export interface DecisionOptions {
  by: string;
  /** The decision's text, under the field its rule names. */
  comment?: string;
  reason?: string;
  json?: boolean;
}

/** The command that makes decision `name`: the campaign's validator decides whether it may, and records it. */
export function decide(name: DecisionName) {
  const textField = decisionRules[name].text?.field;
  return (id: string, opts: DecisionOptions): Promise<number> =>
    withClient(async (client) => {
      const handle: CampaignHandle = client.workflow.getHandle(id);
      let progress: CampaignProgress;
      try {
        progress = await handle.executeUpdate(decisionUpdates[name], {
          args: [decisionInput(name, opts.by, textField && opts[textField])],
        });
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError) {
          // The campaign's validator refused the decision: nothing was recorded.
          console.error(`Refused: ${messageText(error.cause?.message ?? error.message)}`);
          return exitCode.badInput;
        }
        if (error instanceof WorkflowNotFoundError) return explainClosed(handle, name);
        throw error;
      }
      if (opts.json) console.log(jsonText(progress));
      else printDecided(decisionWords[name].done, opts.by, id, progress);
      return exitCode.ok;
    });
}

/** An update reached a closed campaign: say how it ended. */
async function explainClosed(handle: CampaignHandle, name: DecisionName): Promise<number> {
  const { status } = await handle.describe();
  const ended =
    status.name === 'COMPLETED'
      ? `it has ended (${field((await handle.result()).state)})`
      : `its workflow is ${status.name.toLowerCase()}`;
  console.error(`Refused: cannot ${name} campaign ${field(handle.workflowId)}: ${ended}.`);
  return exitCode.badInput;
}
