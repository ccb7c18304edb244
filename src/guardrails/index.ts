// What may be called: the guard rails every call request passes before anything is started. Pure: no Temporal, no
// HTTP, so the same verdict is reached in a client, a CLI and an activity.
export { checkCallRequest, limits } from './call-request';
export type { CallRequest, GuardRailFailureType, Verdict } from './call-request';
export { checkPhoneNumber } from './phone-number';
export type { PhoneNumberVerdict } from './phone-number';
export { checkWebsite } from './website';
export type { WebsiteVerdict } from './website';
