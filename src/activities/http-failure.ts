import { ApplicationFailure } from '@temporalio/common';
import { AgentPhoneHttpError, AgentPhoneNetworkError, AgentPhoneResponseError } from '../agentphone';
import { FailureType } from '../shared/failures';

/**
 * Translates the HTTP client's errors into Temporal failures with stable types: every answer to a read, and the
 * answers to a create that placed nothing (see classifyCreateFailure for the ones that may have).
 */
export function toFailure(error: unknown, action: 'create' | 'read', callId?: string): ApplicationFailure {
  const details = callId === undefined ? [] : [{ callId }];
  if (error instanceof AgentPhoneHttpError) {
    const final = (type: FailureType, message: string) =>
      ApplicationFailure.create({ type, message, nonRetryable: true, details });
    switch (error.status) {
      case 400:
      case 422:
        return final(FailureType.InvalidInput, `AgentPhone refused the ${action}: ${error.message}`);
      case 401:
      case 403:
        return final(
          FailureType.Unauthorized,
          `AgentPhone refused the API key (HTTP ${error.status}). Check AGENTPHONE_API_KEY.`,
        );
      case 402:
        return final(
          FailureType.InsufficientCredits,
          'AgentPhone has no credits left for this account. Top up, then retry.',
        );
      case 404:
        if (action === 'read') return final(FailureType.CallNotFound, `AgentPhone does not know call ${callId}.`);
        return final(FailureType.InvalidInput, `AgentPhone answered 404 to the create: check AGENTPHONE_BASE_URL.`);
      case 409:
        return final(
          FailureType.InvalidInput,
          `AgentPhone refused the ${action} as a conflicting retry: ${error.message}`,
        );
    }
    if (error.status >= 500 || error.status === 408) {
      return ApplicationFailure.create({
        type: FailureType.ApiUnavailable,
        message: `AgentPhone answered HTTP ${error.status} to the ${action}`,
        details,
      });
    }
    return final(
      FailureType.UnexpectedResponse,
      `AgentPhone answered HTTP ${error.status} to the ${action}: ${error.message}`,
    );
  }
  if (error instanceof AgentPhoneNetworkError) {
    return ApplicationFailure.create({ type: FailureType.ApiUnavailable, message: error.message, details });
  }
  if (error instanceof AgentPhoneResponseError) {
    // Retryable: a proxy may have mangled one answer. A create retried this way reuses its Idempotency-Key.
    return ApplicationFailure.create({ type: FailureType.UnexpectedResponse, message: error.message, details });
  }
  return ApplicationFailure.create({
    type: FailureType.ApiUnavailable,
    message: error instanceof Error ? error.message : String(error),
    details,
  });
}
