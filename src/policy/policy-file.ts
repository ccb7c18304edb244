import { readFileSync } from 'node:fs';
import ms from 'ms';
import { z } from 'zod';
import { parseClock } from '../shared/calling-window';
import { ContactPolicyError, type PolicyIssue } from './contact-policy-error';
import {
  type CapRule,
  type ContactPolicy,
  deepFreeze,
  defaultContactPolicy,
  type HoursRule,
  type JurisdictionRule,
  packageDefaults,
} from './laws';

// The shape of the file AGENTPHONE_CONTACT_POLICY names (docs/contact-policy.md). Every object is strict: a
// misspelt key ("perNumer") would otherwise be ignored and its rule silently left at the default.

const clock = z.string({ error: 'must be an HH:MM clock, like "08:00"' }).superRefine((value, ctx) => {
  if (parseClock(value) === undefined) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not an HH:MM clock from 00:00 to 23:59` });
  }
});

const hours = z.strictObject({ start: clock, end: clock }).superRefine(({ start, end }, ctx) => {
  if (start === end) {
    ctx.addIssue({ code: 'custom', path: ['end'], message: `equals start (${start}): the window would be empty` });
  }
});

const duration = z.unknown().transform((value, ctx) => {
  let windowMs = Number.NaN;
  try {
    windowMs = typeof value === 'number' ? value : typeof value === 'string' ? ms(value) : Number.NaN;
  } catch {
    // ms throws on an empty string: reported below like any other non-duration.
  }
  if (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs <= 0) {
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(value)} is not a positive duration: use one like "24h", "7d" or a number of ms`,
    });
    return z.NEVER;
  }
  return windowMs;
});

const limit = z
  .number({ error: 'must be a number of calls' })
  .int({ error: 'must be a whole number of calls' })
  .min(1, { error: 'must be at least 1 (a limit of 0 would forbid every call)' });

const cap = z.strictObject({ limit: limit.optional(), window: duration.optional() });
const caps = z.strictObject({ perNumber: cap.optional(), perCampaign: cap.optional() });

const jurisdictionCode = z
  .string()
  .regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/, { error: 'must be an ISO 3166 code: a country (US) or a subdivision (US-FL)' });

const policyFileSchema = z.strictObject({
  hours: z
    .strictObject({
      default: hours.optional(),
      /** false: campaigns keep to their own callingWindow, without each recipient's hours. @default true */
      campaigns: z.boolean({ error: 'must be true or false' }).optional(),
    })
    .optional(),
  caps: caps.optional(),
  jurisdictions: z
    .record(
      jurisdictionCode,
      z.strictObject({
        /** The law or decision the row rests on, shown as the rule's source. */
        reference: z.string().trim().min(1).max(200).optional(),
        hours: hours.optional(),
        caps: caps.optional(),
      }),
    )
    .optional(),
});

export type ContactPolicyFile = z.input<typeof policyFileSchema>;

/** The environment variable that names the policy file. */
export const contactPolicyVariable = 'AGENTPHONE_CONTACT_POLICY';

/**
 * The contact policy the environment asks for: the JSON file `AGENTPHONE_CONTACT_POLICY` names, merged over the
 * built-in defaults, or the defaults alone when the variable is unset. Throws one `ContactPolicyError` listing
 * every problem of the file, so a worker stops before placing any call.
 */
export function loadContactPolicy(
  env: Readonly<Record<string, string | undefined>> = process.env,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): ContactPolicy {
  const file = env[contactPolicyVariable]?.trim();
  if (!file) return defaultContactPolicy;
  let text: string;
  try {
    text = readFile(file);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
    throw new ContactPolicyError(file, [{ path: '', message: `cannot be read (${why})` }], { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new ContactPolicyError(file, [{ path: '', message: `is not JSON (${why})` }], { cause: error });
  }
  return parseContactPolicy(json, file);
}

/** A policy file's parsed JSON → the resolved policy, or a `ContactPolicyError` listing every problem. */
export function parseContactPolicy(json: unknown, origin = '(inline JSON)'): ContactPolicy {
  const parsed = policyFileSchema.safeParse(json);
  if (!parsed.success) throw new ContactPolicyError(origin, parsed.error.issues.flatMap(issuesOf));
  const file = parsed.data;

  const perNumber = capRule(file.caps?.perNumber, packageDefaults.perNumber, 'contact policy caps.perNumber');
  const perCampaign = capRule(file.caps?.perCampaign, packageDefaults.perCampaign, 'contact policy caps.perCampaign');
  const jurisdictions: Record<string, JurisdictionRule> = { ...defaultContactPolicy.jurisdictions };
  for (const [code, row] of Object.entries(file.jurisdictions ?? {})) {
    const builtIn = defaultContactPolicy.jurisdictions[code] ?? {};
    const source = row.reference ? `${row.reference} (contact policy)` : `contact policy jurisdictions.${code}`;
    const resolved: JurisdictionRule = {
      ...builtIn,
      ...(row.hours && { hours: { ...row.hours, source } }),
    };
    const rowCaps = {
      ...builtIn.caps,
      ...(row.caps?.perNumber && {
        perNumber: capRule(row.caps.perNumber, builtIn.caps?.perNumber ?? perNumber, source),
      }),
      ...(row.caps?.perCampaign && {
        perCampaign: capRule(row.caps.perCampaign, builtIn.caps?.perCampaign ?? perCampaign, source),
      }),
    };
    if (Object.keys(rowCaps).length > 0) resolved.caps = rowCaps;
    jurisdictions[code] = resolved;
  }
  const defaultHours: HoursRule = file.hours?.default
    ? { ...file.hours.default, source: 'contact policy hours.default' }
    : { ...packageDefaults.hours };
  const campaignHours = file.hours?.campaigns ?? true;
  return deepFreeze({ defaultHours, campaignHours, caps: { perNumber, perCampaign }, jurisdictions, origin });
}

/** The file's values for one cap over `fallback`; the source changes only when the file says something. */
function capRule(value: { limit?: number; window?: number } | undefined, fallback: CapRule, source: string): CapRule {
  if (!value || (value.limit === undefined && value.window === undefined)) return { ...fallback };
  return { limit: value.limit ?? fallback.limit, windowMs: value.window ?? fallback.windowMs, source };
}

function issuesOf(issue: z.core.$ZodIssue): PolicyIssue[] {
  const path = pathOf(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: pathOf([...issue.path, key]), message: 'is not a key the policy knows' }));
  }
  if (issue.code === 'invalid_key') {
    return [{ path, message: issue.issues[0]?.message ?? issue.message }];
  }
  return [{ path, message: issue.message }];
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.map((part) => (typeof part === 'number' ? `[${part}]` : String(part))).join('.');
}
