// Every number and word of the AgentPhone contract (shared/agentphone/api-contract.txt), in one place.
// Plain constants, free of imports, so that workflow code, activities, the CLI and the simulator all read them.

/** "429 | Rate limit (10/min)": creates the API accepts per key in any window of `rateWindowMs`. */
export const createsPerWindow = 10;
/** The window of that limit: one minute. */
export const rateWindowMs = 60_000;
/** "If 429 → wait 60 seconds, retry once. If 429 again → stop." */
export const rateLimitWaitMs = 60_000;
/** "Poll GET /calls/{callId} every 10 seconds." */
export const pollIntervalMs = 10_000;
/** "Timeout after 5 minutes." */
export const callTimeoutMs = 5 * 60_000;
/** "poll 2 more times with 2s delay — enrichment arrives shortly after completion." */
export const enrichmentPolls = 2;
export const enrichmentIntervalMs = 2_000;
/** "First 5 calls are free." */
export const freeCalls = 5;
