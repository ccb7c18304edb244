// The package's public API for library users. Workflow code lives in ./workflows (the worker's bundle entry).
export {
  assertCallInput,
  CallInputError,
  callFailureOf,
  maskPhoneNumber,
  placeCall,
  startCall,
  waitForCall,
} from './client';
export type { PlaceCallOptions, StartCallOptions, StartedCall } from './client';
export { FailureType, nextStep } from './failures';
export { createActivities } from './activities';
export type { Activities, ActivityDeps } from './activities';
export {
  createAgentPhoneClient,
  defaultBaseUrl,
  AgentPhoneHttpError,
  AgentPhoneNetworkError,
  AgentPhoneResponseError,
} from './agentphone';
export type { AgentPhoneClient, CallOutcome, CallStatus } from './agentphone';
export { checkCallRequest, checkPhoneNumber } from './guardrails';
export { loadWorkerConfig, ConfigError, defaultTaskQueue } from './config';
export { createCallWorker } from './worker';
export { keyFingerprint } from './agentphone/client';
export { searchAttributes } from './search-attributes';
export { registerSearchAttributes, missingSearchAttributes } from './temporal-setup';
export { callStateQuery } from './workflows/place-call';
export type { CallResult, CallState, PlaceCallInput } from './workflows/types';
export type { Timing } from './timing';
export {
  callCampaignWorkflow,
  campaignProgressQuery,
  campaignTargetsQuery,
  approveCampaignUpdate,
  rejectCampaignUpdate,
  pauseCampaignUpdate,
  resumeCampaignUpdate,
  cancelCampaignUpdate,
} from './workflows/campaign';
export { childWorkflowId } from './workflows/campaign-types';
export type {
  CampaignInput,
  CampaignProgress,
  CampaignState,
  CampaignTarget,
  TargetState,
  Decision,
} from './workflows/campaign-types';
export { readTargetsCsv, validateTargets, parseTargetsCsv, TargetsFileError } from './campaign/targets';
