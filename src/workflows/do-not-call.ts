import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DncAnswer, DncCommand } from '../shared/do-not-call';
import { FailureType } from '../shared/failures';

const { doNotCall } = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  // Every command is safe to repeat: add and import upsert, remove of a removed number is a no-op, reads are reads.
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: [FailureType.InvalidInput, FailureType.InvalidPhoneNumber] },
});

/**
 * One command on the do-not-call list, run by a worker (which holds the contact store): `npm run starter -- dnc …`
 * and the typed helpers start it. Short-lived: its history is the audit of who changed the list, and when.
 */
export async function doNotCallWorkflow(command: DncCommand): Promise<DncAnswer> {
  return doNotCall.executeWithOptions({ summary: `do-not-call ${command.op}` }, [command]);
}
