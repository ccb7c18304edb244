// The contact policy: when a number may be called (its time zone, its jurisdiction's hours) and how often (frequency
// caps). Pure rules over committed tables; only loadContactPolicy reads a file. No Temporal: an activity evaluates
// them so that the decision is recorded in the workflow's history.
export { callingHoursFor, narrowWindow } from './calling-hours';
export type { CallingHours } from './calling-hours';
export { CallingWindowError } from './calling-window-error';
export { capsFor } from './caps';
export type { FrequencyCap } from './caps';
export { ContactPolicyError } from './contact-policy-error';
export type { PolicyIssue } from './contact-policy-error';
export { jurisdictionOf } from './jurisdiction';
export type { Jurisdiction } from './jurisdiction';
export { defaultContactPolicy, laws, packageDefaults, wholeCampaignMs } from './laws';
export type { CapRule, CapRules, ClockWindow, ContactPolicy, HoursRule, JurisdictionRule } from './laws';
export { contactPolicyVariable, loadContactPolicy, parseContactPolicy } from './policy-file';
export type { ContactPolicyFile } from './policy-file';
export { zoneOfNumber } from './zone-of-number';
export type { ZoneOfNumber } from './zone-of-number';
