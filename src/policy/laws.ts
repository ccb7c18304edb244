// The contact policy's defaults, as data: one row per jurisdiction with the legal reference it rests on, and the
// package's own defaults (not laws) for everything else. docs/contact-policy.md explains each row. Not legal advice.

/** Local-time bounds as `HH:MM`; `start` after `end` wraps past midnight, as in src/shared/calling-window.ts. */
export interface ClockWindow {
  start: string;
  end: string;
}

/** Calling hours and what they rest on: a law's reference, the package's default, or the contact policy file. */
export interface HoursRule extends ClockWindow {
  source: string;
}

/** At most `limit` calls within any `windowMs`. */
export interface CapRule {
  limit: number;
  windowMs: number;
  source: string;
}

export interface CapRules {
  /** Calls to one number across every campaign and one-off call. */
  perNumber?: CapRule;
  /** Calls to one number within one campaign, its retry ladder aside. */
  perCampaign?: CapRule;
}

export interface JurisdictionRule {
  hours?: HoursRule;
  caps?: CapRules;
}

/** The contact policy after defaults are merged: what every rule function reads. JSON-safe, so it can travel. */
export interface ContactPolicy {
  /** Hours for numbers whose jurisdictions have no row. */
  defaultHours: HoursRule;
  /**
   * Whether campaigns apply each recipient's calling hours (by its number) on top of their own callingWindow.
   * `false` leaves a campaign to its callingWindow alone: for calls that are no telephone solicitation, the
   * operator's decision, shown in every campaign's preview. Single calls ask for the hours themselves
   * (`callingHours: 'recipient'`).
   */
  campaignHours: boolean;
  caps: Required<CapRules>;
  /** By ISO 3166 code (`US`, `US-FL`, `GB`): the built-in rows below, overridden field by field by the file. */
  jurisdictions: Readonly<Record<string, JurisdictionRule>>;
  /** The policy file's path, or `built-in defaults`. */
  origin: string;
}

export const hourMs = 3_600_000;
export const dayMs = 24 * hourMs;

/**
 * The window of a per-campaign cap that names none: the campaign's whole life, taken as ten years (no campaign runs
 * that long). A finite number, so the policy stays JSON (Infinity would become null on the way to an activity), and
 * within what the contact store accepts (a century).
 */
export const wholeCampaignMs = 10 * 365 * dayMs;

/** The package's defaults. Not laws: choices made to stay inside the strictest common rules. */
export const packageDefaults = {
  /** @default 08:00–21:00 local: the US federal hours, used where no row applies. */
  hours: { start: '08:00', end: '21:00', source: 'agentphone-temporal default (not a law)' },
  /** @default 3 calls per 24 hours to one number, across everything: Florida's and Oklahoma's limit. */
  perNumber: { limit: 3, windowMs: dayMs, source: 'agentphone-temporal default (not a law)' },
  /** @default 1 call per number per campaign, its retry ladder aside. */
  perCampaign: { limit: 1, windowMs: wholeCampaignMs, source: 'agentphone-temporal default (not a law)' },
} as const satisfies { hours: HoursRule; perNumber: CapRule; perCampaign: CapRule };

interface LawRow {
  /** ISO 3166-1 country or ISO 3166-2 subdivision. */
  jurisdiction: string;
  name: string;
  hours?: ClockWindow & { law: string };
  perNumber?: { limit: number; windowMs: number; law: string };
}

/** The laws the package knows. A stricter state rule applies together with the federal one (intersection). */
export const laws: readonly LawRow[] = [
  {
    jurisdiction: 'US',
    name: 'United States (TCPA)',
    hours: { start: '08:00', end: '21:00', law: '47 CFR 64.1200(c)(1)' },
  },
  {
    jurisdiction: 'US-FL',
    name: 'Florida (Telephone Solicitation Act)',
    hours: { start: '08:00', end: '20:00', law: 'Fla. Stat. 501.059(8)(a)' },
    perNumber: { limit: 3, windowMs: dayMs, law: 'Fla. Stat. 501.059(8)(b)' },
  },
  {
    jurisdiction: 'US-OK',
    name: 'Oklahoma (Telephone Solicitation Act of 2022)',
    hours: { start: '08:00', end: '20:00', law: 'Okla. Stat. tit. 15 §775C.4' },
    perNumber: { limit: 3, windowMs: dayMs, law: 'Okla. Stat. tit. 15 §775C.4' },
  },
];

/** The policy in force without a policy file. */
export const defaultContactPolicy: ContactPolicy = deepFreeze({
  defaultHours: { ...packageDefaults.hours },
  campaignHours: true,
  caps: { perNumber: { ...packageDefaults.perNumber }, perCampaign: { ...packageDefaults.perCampaign } },
  jurisdictions: Object.fromEntries(
    laws.map(({ jurisdiction, hours, perNumber }): [string, JurisdictionRule] => [
      jurisdiction,
      {
        ...(hours && { hours: { start: hours.start, end: hours.end, source: hours.law } }),
        ...(perNumber && {
          caps: { perNumber: { limit: perNumber.limit, windowMs: perNumber.windowMs, source: perNumber.law } },
        }),
      },
    ]),
  ),
  origin: 'built-in defaults',
});

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
