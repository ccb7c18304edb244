/**
 * Test numbers in the reserved block +1 500 555 01xx, one per behaviour.
 * Any other valid number behaves as `achieved`.
 */
export const magicNumbers = {
  achieved: '+15005550100',
  partial: '+15005550101',
  notAchieved: '+15005550102',
  failed: '+15005550103',
  canceled: '+15005550104',
  neverEnds: '+15005550105',
  lateEnrichment: '+15005550106',
  noEnrichment: '+15005550107',
  rateLimitedOnce: '+15005550108',
  rateLimitedAlways: '+15005550109',
  insufficientCredits: '+15005550110',
  serverErrorOnce: '+15005550111',
  badRequest: '+15005550112',
  rateLimitedOnceOnRead: '+15005550113',
  serverErrorOnceOnRead: '+15005550114',
  malformedJsonOnceOnRead: '+15005550115',
  unknownStatus: '+15005550116',
  vanishes: '+15005550117',
  htmlErrorOnceOnRead: '+15005550118',
  slowCreate: '+15005550119',
} as const;

export type Scenario = keyof typeof magicNumbers;

export type Outcome = 'achieved' | 'partial' | 'not_achieved';

/** How the call ends; `null` means it never leaves `in_progress`. */
export type Ending = { status: 'completed'; outcome: Outcome } | { status: 'failed' | 'canceled' } | null;

export interface Behaviour {
  readonly ending: Ending;
  /** When summary and transcript appear: with `completed`, a little later, or never. */
  readonly enrichment: 'atCompletion' | 'late' | 'never';
  /** A refusal of create requests; `once` means only the first create request for the number. */
  readonly onCreate?: { readonly status: 400 | 402 | 429 | 500; readonly once: boolean };
  /** What the first GET of the call answers instead of the call. */
  readonly onFirstRead?: 'rateLimited' | 'serverError' | 'malformedJson' | 'html';
  /** How many first GETs report the off-contract status `ringing`. */
  readonly ringingReads: number;
  /** Every GET after the first answers 404. */
  readonly vanishes: boolean;
  /** The response of the request that creates the call waits `slowCreateMs`. */
  readonly slowCreate: boolean;
}

const achieved: Behaviour = {
  ending: { status: 'completed', outcome: 'achieved' },
  enrichment: 'atCompletion',
  ringingReads: 0,
  vanishes: false,
  slowCreate: false,
};

const behaviours: Record<Scenario, Behaviour> = {
  achieved,
  partial: { ...achieved, ending: { status: 'completed', outcome: 'partial' } },
  notAchieved: { ...achieved, ending: { status: 'completed', outcome: 'not_achieved' } },
  failed: { ...achieved, ending: { status: 'failed' } },
  canceled: { ...achieved, ending: { status: 'canceled' } },
  neverEnds: { ...achieved, ending: null },
  lateEnrichment: { ...achieved, enrichment: 'late' },
  noEnrichment: { ...achieved, enrichment: 'never' },
  rateLimitedOnce: { ...achieved, onCreate: { status: 429, once: true } },
  rateLimitedAlways: { ...achieved, onCreate: { status: 429, once: false } },
  insufficientCredits: { ...achieved, onCreate: { status: 402, once: false } },
  serverErrorOnce: { ...achieved, onCreate: { status: 500, once: true } },
  badRequest: { ...achieved, onCreate: { status: 400, once: false } },
  rateLimitedOnceOnRead: { ...achieved, onFirstRead: 'rateLimited' },
  serverErrorOnceOnRead: { ...achieved, onFirstRead: 'serverError' },
  malformedJsonOnceOnRead: { ...achieved, onFirstRead: 'malformedJson' },
  unknownStatus: { ...achieved, ringingReads: 2 },
  vanishes: { ...achieved, vanishes: true },
  htmlErrorOnceOnRead: { ...achieved, onFirstRead: 'html' },
  slowCreate: { ...achieved, slowCreate: true },
};

const scenarioByNumber = new Map<string, Scenario>(
  Object.entries(magicNumbers).map(([scenario, number]) => [number, scenario as Scenario]),
);

export function scenarioOf(toPhoneNumber: string): Scenario {
  return scenarioByNumber.get(toPhoneNumber) ?? 'achieved';
}

export function behaviourOf(scenario: Scenario): Behaviour {
  return behaviours[scenario];
}
