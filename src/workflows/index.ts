// The workflow bundle's entry: every workflow the worker runs, and nothing that touches Node.
export { placeCallWorkflow, callStateQuery } from './place-call';
export {
  callCampaignWorkflow,
  campaignProgressQuery,
  campaignTargetsQuery,
  approveCampaignUpdate,
  rejectCampaignUpdate,
  pauseCampaignUpdate,
  resumeCampaignUpdate,
  cancelCampaignUpdate,
} from './campaign';
export {
  dialGateWorkflow,
  requestDialSlotSignal,
  dialSlotQuery,
  claimDialSlotUpdate,
  releaseDialSlotUpdate,
  dialClaimsQuery,
  dialRateLimitedSignal,
  dialGateQuery,
} from './dial-gate';
