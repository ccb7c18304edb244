import { z } from 'zod';
import { defaultBaseUrl } from './agentphone/client';

/** The task queue the worker polls and the starter targets, unless TEMPORAL_TASK_QUEUE says otherwise. */
export const defaultTaskQueue = 'agentphone';

const taskQueue = z.string().trim().min(1).default(defaultTaskQueue);

const workerEnvSchema = z.object({
  AGENTPHONE_API_KEY: z
    .string({ error: 'AGENTPHONE_API_KEY is not set. Create a key at https://agentphone.app/dashboard/api-keys.' })
    .trim()
    .min(1, 'AGENTPHONE_API_KEY is empty. Create a key at https://agentphone.app/dashboard/api-keys.'),
  AGENTPHONE_BASE_URL: z
    .url({ protocol: /^https?$/, error: 'AGENTPHONE_BASE_URL must be an http(s) URL.' })
    .default(defaultBaseUrl),
  // At most 15 s: the read activity's 20 s timeout must outlast the HTTP request it wraps.
  AGENTPHONE_HTTP_TIMEOUT_MS: z.coerce.number().int().min(1000).max(15_000).default(15_000),
  TEMPORAL_TASK_QUEUE: taskQueue,
  AGENTPHONE_SEARCH_ATTRIBUTES: z
    .enum(['auto', 'on', 'off'], { error: 'AGENTPHONE_SEARCH_ATTRIBUTES must be auto, on or off.' })
    .default('auto'),
});

const clientEnvSchema = z.object({ TEMPORAL_TASK_QUEUE: taskQueue });

export interface WorkerConfig {
  agentPhone: { apiKey: string; baseUrl: string; timeoutMs: number };
  taskQueue: string;
  /** Upsert search attributes: detected (`undefined`), or forced where the server hides its list (Temporal Cloud). */
  searchAttributes?: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';

  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parses the worker's environment once, reporting every problem together. The key's value never appears. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const parsed = workerEnvSchema.safeParse(blankToUndefined(env));
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map(describeIssue));
  const { AGENTPHONE_API_KEY, AGENTPHONE_BASE_URL, AGENTPHONE_HTTP_TIMEOUT_MS, TEMPORAL_TASK_QUEUE } = parsed.data;
  const searchAttributes = { auto: undefined, on: true, off: false }[parsed.data.AGENTPHONE_SEARCH_ATTRIBUTES];
  return {
    agentPhone: { apiKey: AGENTPHONE_API_KEY, baseUrl: AGENTPHONE_BASE_URL, timeoutMs: AGENTPHONE_HTTP_TIMEOUT_MS },
    taskQueue: TEMPORAL_TASK_QUEUE,
    ...(searchAttributes === undefined ? {} : { searchAttributes }),
  };
}

export function loadClientConfig(env: NodeJS.ProcessEnv = process.env): { taskQueue: string } {
  const parsed = clientEnvSchema.safeParse(blankToUndefined(env));
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map(describeIssue));
  return { taskQueue: parsed.data.TEMPORAL_TASK_QUEUE };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const name = issue.path.join('.');
  return issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`;
}

function blankToUndefined(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === '' ? undefined : v]));
}
