export { createAgentPhoneClient, defaultBaseUrl } from './client';
export type { AgentPhoneClient, AgentPhoneClientOptions, CallDetails, CreateCallRequest, CreatedCall } from './client';
export { AgentPhoneHttpError, AgentPhoneNetworkError, AgentPhoneResponseError } from './errors';
export { callStatuses, outcomes, terminalStatuses } from './schemas';
export type { CallOutcome, CallStatus, KnownCallStatus } from './schemas';
