export { createAgentPhoneClient, defaultBaseUrl } from './client';
export type { AgentPhoneClient, AgentPhoneClientOptions, CallDetails, CreateCallRequest, CreatedCall } from './client';
export { AgentPhoneHttpError, AgentPhoneNetworkError, AgentPhoneResponseError } from './errors';
export { callStatuses, outcomes, terminalStatuses } from './statuses';
export type { CallOutcome, CallStatus, KnownCallStatus } from './statuses';
