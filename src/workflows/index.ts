// The workflow bundle's entry: every workflow the worker runs, and nothing that touches Node. Their messages are
// defined in src/shared (messages.ts, dial-gate.ts); the package's public API (src/index.ts) exports both.
export { placeCallWorkflow } from './place-call';
export { callCampaignWorkflow } from './campaign';
export { dialGateWorkflow } from './dial-gate';
export { doNotCallWorkflow } from './do-not-call';
