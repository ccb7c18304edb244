// The package's public API for library users, one export a module. Workflow code lives in ./workflows (the
// worker's bundle entry); these names are public: never remove or rename one.
export {
  assertCallInput,
  CallInputError,
  callFailureOf,
  dncImportChunkRows,
  doNotCallList,
  maskPhoneNumber,
  placeCall,
  startCall,
  waitForCall,
  type PlaceCallOptions,
  type StartCallOptions,
  type StartedCall,
} from './calls';
export { callCampaignWorkflow, doNotCallWorkflow, placeCallWorkflow } from './workflows';
export type { DncAnswer, DncCommand, DncListing } from './shared/do-not-call';
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
export type { CallResult, CallState, PlaceCallInput } from './shared/call-types';
export {
  childWorkflowId,
  type CampaignInput,
  type CampaignProgress,
  type CampaignState,
  type CampaignTarget,
  type TargetState,
  type Decision,
} from './shared/campaign-types';
export type { Timing } from './shared/timing';
export { FailureType, nextStep } from './shared/failures';
export { searchAttributes } from './shared/search-attributes';
export { createCallWorker } from './worker';
export { createActivities, type Activities, type ActivityDeps } from './activities';
export {
  createAgentPhoneClient,
  defaultBaseUrl,
  keyFingerprint,
  AgentPhoneHttpError,
  AgentPhoneNetworkError,
  AgentPhoneResponseError,
  type AgentPhoneClient,
  type CallOutcome,
  type CallStatus,
} from './agentphone';
export { checkCallRequest, checkPhoneNumber } from './guardrails';
export { loadWorkerConfig, ConfigError, defaultTaskQueue } from './config';
export { registerSearchAttributes, missingSearchAttributes } from './temporal-setup';
export { readTargetsCsv, validateTargets, parseTargetsCsv, TargetsFileError } from './domain/targets';
export { dataConverterFor, EncryptionCodec, PayloadDecryptionError } from './encryption/codec';
export { loadKeyRing, generateKey, EncryptionConfigError, type KeyRing } from './encryption/keys';
export { startCodecServer, type CodecServerOptions } from './encryption/codec-server';
export { openContactStore, contactStoreOptionsFromEnv, type ContactStore } from './contact-store';
export { loadContactPolicy, parseContactPolicy, ContactPolicyError, type ContactPolicy } from './policy';
