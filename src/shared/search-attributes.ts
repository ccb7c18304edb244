import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The custom search attributes this package upserts, all Keyword. They hold states and ids only: never a phone
 * number, an objective or a transcript, because search attributes are indexed and never encrypted.
 */
export const searchAttributes = {
  callStatus: defineSearchAttributeKey('AgentPhoneCallStatus', SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey('AgentPhoneOutcome', SearchAttributeType.KEYWORD),
  failureType: defineSearchAttributeKey('AgentPhoneFailureType', SearchAttributeType.KEYWORD),
  campaignId: defineSearchAttributeKey('AgentPhoneCampaignId', SearchAttributeType.KEYWORD),
  campaignState: defineSearchAttributeKey('AgentPhoneCampaignState', SearchAttributeType.KEYWORD),
} as const;

export const searchAttributeKeys = Object.values(searchAttributes);
