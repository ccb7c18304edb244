export { createAgentPhoneClient, defaultBaseUrl, keyFingerprint } from './client';
export type { AgentPhoneClient, CallDetails, CreatedCall } from './client';
export { AgentPhoneHttpError, AgentPhoneNetworkError, AgentPhoneResponseError } from './errors';
export type { CallOutcome, CallStatus } from './statuses';
