import { z } from 'zod';
import { defaultBaseUrl } from './agentphone/client';
import { createsPerWindow, rateWindowMs } from './agentphone/contract';
import { ContactStoreConfigError, type ContactStoreOptions, contactStoreOptionsFromEnv } from './contact-store';
import { EncryptionConfigError, type KeyRing, loadKeyRing } from './encryption/keys';
import { type ContactPolicy, ContactPolicyError, loadContactPolicy } from './policy';
import { durationMs } from './shared/timing';

/** The task queue the worker polls and the starter targets, unless TEMPORAL_TASK_QUEUE says otherwise. */
export const defaultTaskQueue = 'agentphone';

/** The task queue of the API key's dial gate: one per namespace, whatever queues the calls run on. */
export const defaultGateTaskQueue = 'agentphone-dial-gate';

const taskQueue = z.string().trim().min(1).default(defaultTaskQueue);

const workerEnvSchema = z.object({
  AGENTPHONE_API_KEY: z
    .string({ error: 'AGENTPHONE_API_KEY is not set. Create a key at https://agentphone.app/dashboard/api-keys.' })
    .trim()
    .min(1, 'AGENTPHONE_API_KEY is empty. Create a key at https://agentphone.app/dashboard/api-keys.')
    // The key travels as a header value: anything but visible ASCII (a newline, a space, a non-ASCII letter pasted
    // with it) would make every request fail with a message that quotes it. The messages never print the key.
    .max(512, 'AGENTPHONE_API_KEY is longer than 512 characters: check that only the key was pasted.')
    .regex(
      /^[\x21-\x7e]+$/,
      'AGENTPHONE_API_KEY holds a space, a control or a non-ASCII character: paste the key alone.',
    ),
  AGENTPHONE_BASE_URL: z
    .url({ protocol: /^https?$/, error: 'AGENTPHONE_BASE_URL must be an http(s) URL.' })
    // fetch refuses such URLs, and a banner or an error quoting the URL would print them. Never echoed back.
    .refine(
      (url) => !hasCredentials(url),
      'AGENTPHONE_BASE_URL carries credentials (user:password@): remove them; the key goes in AGENTPHONE_API_KEY.',
    )
    .default(defaultBaseUrl),
  // At most 15 s: the read activity's 20 s timeout must outlast the HTTP request it wraps.
  AGENTPHONE_HTTP_TIMEOUT_MS: z.coerce.number().int().min(1000).max(15_000).default(15_000),
  TEMPORAL_TASK_QUEUE: taskQueue,
  AGENTPHONE_RATE_LIMIT: z
    .string()
    .transform((value, ctx) => {
      const ceiling = parseRateLimit(value);
      if (!ceiling)
        ctx.addIssue({ code: 'custom', message: 'AGENTPHONE_RATE_LIMIT must be <count>/<duration>, e.g. 10/1m.' });
      return ceiling ?? defaultRateLimit;
    })
    .optional(),
  AGENTPHONE_IDEMPOTENCY: z
    .enum(['trusted', 'untrusted'], { error: 'AGENTPHONE_IDEMPOTENCY must be trusted or untrusted.' })
    .default('untrusted'),
  AGENTPHONE_GATE_TASK_QUEUE: z.string().trim().min(1).default(defaultGateTaskQueue),
  AGENTPHONE_SEARCH_ATTRIBUTES: z
    .enum(['auto', 'on', 'off'], { error: 'AGENTPHONE_SEARCH_ATTRIBUTES must be auto, on or off.' })
    .default('auto'),
});

const clientEnvSchema = z.object({ TEMPORAL_TASK_QUEUE: taskQueue });

export interface WorkerConfig {
  agentPhone: { apiKey: string; baseUrl: string; timeoutMs: number };
  /** The key's ceiling: creates per window (AGENTPHONE_RATE_LIMIT, default the contract's 10 a minute). */
  rateLimit: { count: number; windowMs: number };
  /** Whether the API deduplicates creates by Idempotency-Key (AGENTPHONE_IDEMPOTENCY). */
  idempotency: 'trusted' | 'untrusted';
  /** The task queue of the key's dial gate (AGENTPHONE_GATE_TASK_QUEUE): one for the whole namespace. */
  gateTaskQueue: string;
  /** Things to say at start-up that do not stop the worker (a plain-http API that is not on this machine). */
  warnings: string[];
  taskQueue: string;
  /** Upsert search attributes: detected (`undefined`), or forced where the server hides its list (Temporal Cloud). */
  searchAttributes?: boolean;
  /** The payload encryption keys (AGENTPHONE_ENCRYPTION_KEYS or _KEY_FILE): absent, payloads stay plain. */
  encryption?: KeyRing;
  /**
   * Where the contact policy's store lives (AGENTPHONE_DATABASE_URL, else AGENTPHONE_DATA_DIR), and the key of its
   * contact log's hashes (AGENTPHONE_CONTACT_HASH_KEY).
   */
  contactStore: ContactStoreOptions;
  /** The contact policy (AGENTPHONE_CONTACT_POLICY, else the built-in defaults). */
  contactPolicy: ContactPolicy;
}

/** What a client of the package's workflows (the CLI, a backend) reads from its environment. */
export interface ClientConfig {
  taskQueue: string;
  /** The same keys as the workers': a client encrypts what it sends and decrypts what it reads. */
  encryption?: KeyRing;
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
  const keys = keyRingOf(env);
  const contacts = contactsOf(env);
  if (!parsed.success || keys.problems || !contacts.ok) {
    throw new ConfigError([
      ...(parsed.error?.issues.map(describeIssue) ?? []),
      ...(keys.problems ?? []),
      ...(contacts.ok ? [] : contacts.problems),
    ]);
  }
  const { AGENTPHONE_API_KEY, AGENTPHONE_BASE_URL, AGENTPHONE_HTTP_TIMEOUT_MS, TEMPORAL_TASK_QUEUE } = parsed.data;
  const searchAttributes = { auto: undefined, on: true, off: false }[parsed.data.AGENTPHONE_SEARCH_ATTRIBUTES];
  return {
    agentPhone: { apiKey: AGENTPHONE_API_KEY, baseUrl: AGENTPHONE_BASE_URL, timeoutMs: AGENTPHONE_HTTP_TIMEOUT_MS },
    rateLimit: parsed.data.AGENTPHONE_RATE_LIMIT ?? defaultRateLimit,
    idempotency: parsed.data.AGENTPHONE_IDEMPOTENCY,
    gateTaskQueue: parsed.data.AGENTPHONE_GATE_TASK_QUEUE,
    warnings: baseUrlWarnings(AGENTPHONE_BASE_URL),
    taskQueue: TEMPORAL_TASK_QUEUE,
    ...(searchAttributes === undefined ? {} : { searchAttributes }),
    ...(keys.ring ? { encryption: keys.ring } : {}),
    contactStore: contacts.store,
    contactPolicy: contacts.policy,
  };
}

/** The contact store's options and the contact policy, or every problem of both. */
function contactsOf(
  env: NodeJS.ProcessEnv,
): { ok: true; store: ContactStoreOptions; policy: ContactPolicy } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  let store: ContactStoreOptions = {};
  let policy: ContactPolicy | undefined;
  try {
    store = contactStoreOptionsFromEnv(env);
  } catch (error) {
    if (!(error instanceof ContactStoreConfigError)) throw error;
    problems.push(...error.problems);
  }
  try {
    policy = loadContactPolicy(env);
  } catch (error) {
    if (!(error instanceof ContactPolicyError)) throw error;
    problems.push(error.message);
  }
  return policy && problems.length === 0 ? { ok: true, store, policy } : { ok: false, problems };
}

export function loadClientConfig(env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const parsed = clientEnvSchema.safeParse(blankToUndefined(env));
  const keys = keyRingOf(env);
  if (!parsed.success || keys.problems) {
    throw new ConfigError([...(parsed.error?.issues.map(describeIssue) ?? []), ...(keys.problems ?? [])]);
  }
  return { taskQueue: parsed.data.TEMPORAL_TASK_QUEUE, ...(keys.ring ? { encryption: keys.ring } : {}) };
}

/** The key ring, or its problems (reported with the rest of the configuration's). */
function keyRingOf(env: NodeJS.ProcessEnv): { ring?: KeyRing; problems?: string[] } {
  try {
    const ring = loadKeyRing(env);
    return ring ? { ring } : {};
  } catch (error) {
    if (error instanceof EncryptionConfigError) return { problems: error.problems };
    throw error;
  }
}

const defaultRateLimit = { count: createsPerWindow, windowMs: rateWindowMs };

/** `10/1m` → { count: 10, windowMs: 60000 }; undefined when malformed. */
export function parseRateLimit(value: string): { count: number; windowMs: number } | undefined {
  const match = /^\s*(\d{1,6})\s*\/\s*(\S+)\s*$/.exec(value);
  const count = Number(match?.[1]);
  const windowMs = match ? durationMs(match[2]!) : undefined;
  if (!match || count < 1 || windowMs === undefined || windowMs < 100 || windowMs > 3_600_000) return undefined;
  return { count, windowMs };
}

export function hasCredentials(url: string): boolean {
  const { username, password } = new URL(url);
  return Boolean(username || password);
}

const localHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

function baseUrlWarnings(url: string): string[] {
  const { protocol, hostname } = new URL(url);
  if (protocol !== 'http:' || localHosts.has(hostname) || hostname.endsWith('.localhost')) return [];
  return [
    `AGENTPHONE_BASE_URL uses plain http to ${hostname}: the API key would cross the network unencrypted. Use https.`,
  ];
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const name = issue.path.join('.');
  return issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`;
}

function blankToUndefined(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === '' ? undefined : v]));
}
