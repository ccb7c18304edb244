// The messages of the package's workflows, as workflows, clients and the CLI all refer to them. Definitions only:
// the handlers are in src/workflows. The key's dial gate has its own, in ./dial-gate.
import type { UpdateDefinition } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { CallState } from './call-types';
import type {
  ApproveInput,
  CampaignProgress,
  CampaignReportQuery,
  CampaignTargetsPage,
  CancelInput,
  PauseInput,
  RejectInput,
  ResumeInput,
} from './campaign-types';
import { type DecisionInput, type DecisionName, decisionRules } from './decisions';

/** A call's phase, status and result so far. */
export const callStateQuery = defineQuery<CallState>('callState');

export const campaignProgressQuery = defineQuery<CampaignProgress>('campaignProgress');
export const campaignTargetsQuery = defineQuery<CampaignTargetsPage, [CampaignReportQuery?]>('campaignTargets');
export const approveCampaignUpdate = defineUpdate<CampaignProgress, [ApproveInput]>(decisionRules.approve.update);
export const rejectCampaignUpdate = defineUpdate<CampaignProgress, [RejectInput]>(decisionRules.reject.update);
export const pauseCampaignUpdate = defineUpdate<CampaignProgress, [PauseInput]>(decisionRules.pause.update);
export const resumeCampaignUpdate = defineUpdate<CampaignProgress, [ResumeInput]>(decisionRules.resume.update);
export const cancelCampaignUpdate = defineUpdate<CampaignProgress, [CancelInput]>(decisionRules.cancel.update);

/**
 * The update of each decision, by name, taking the one argument shape `decisionInput` builds: what the CLI sends.
 * (Each update's own definition above is stricter; the validators check every field either way.)
 */
export const decisionUpdates = {
  approve: approveCampaignUpdate,
  reject: rejectCampaignUpdate,
  pause: pauseCampaignUpdate,
  resume: resumeCampaignUpdate,
  cancel: cancelCampaignUpdate,
} as Record<DecisionName, UpdateDefinition<CampaignProgress, [DecisionInput]>>;
