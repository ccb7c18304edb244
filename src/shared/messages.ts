// The messages of the package's workflows, as workflows, clients and the CLI all refer to them. Definitions only:
// the handlers are in src/workflows. The key's dial gate has its own, in ./dial-gate.
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

/** A call's phase, status and result so far. */
export const callStateQuery = defineQuery<CallState>('callState');

export const campaignProgressQuery = defineQuery<CampaignProgress>('campaignProgress');
export const campaignTargetsQuery = defineQuery<CampaignTargetsPage, [CampaignReportQuery?]>('campaignTargets');
export const approveCampaignUpdate = defineUpdate<CampaignProgress, [ApproveInput]>('approveCampaign');
export const rejectCampaignUpdate = defineUpdate<CampaignProgress, [RejectInput]>('rejectCampaign');
export const pauseCampaignUpdate = defineUpdate<CampaignProgress, [PauseInput]>('pauseCampaign');
export const resumeCampaignUpdate = defineUpdate<CampaignProgress, [ResumeInput]>('resumeCampaign');
export const cancelCampaignUpdate = defineUpdate<CampaignProgress, [CancelInput]>('cancelCampaign');
