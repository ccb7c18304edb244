// The package's public API for library users. Workflow code lives in ./workflows (the worker's bundle entry).
export {
  assertCallInput,
  CallInputError,
  callFailureOf,
  maskPhoneNumber,
  placeCall,
  startCall,
  waitForCall,
} from './calls';
export type { PlaceCallOptions, StartCallOptions, StartedCall } from './calls';
export { FailureType, nextStep } from './shared/failures';
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
export { searchAttributes } from './shared/search-attributes';
export { registerSearchAttributes, missingSearchAttributes } from './temporal-setup';
export type { CallResult, CallState, PlaceCallInput } from './shared/call-types';
export type { Timing } from './shared/timing';
export { callCampaignWorkflow, placeCallWorkflow } from './workflows';
export {
  callStateQuery,
  campaignProgressQuery,
  campaignTargetsQuery,
  approveCampaignUpdate,
  rejectCampaignUpdate,
  pauseCampaignUpdate,
  resumeCampaignUpdate,
  cancelCampaignUpdate,
} from './shared/messages';
export { childWorkflowId } from './shared/campaign-types';
export type {
  CampaignInput,
  CampaignProgress,
  CampaignState,
  CampaignTarget,
  TargetState,
  Decision,
} from './shared/campaign-types';
export { readTargetsCsv, validateTargets, parseTargetsCsv, TargetsFileError } from './domain/targets';
