import { writeFileSync } from 'node:fs';
import { FailureType } from '../../../src/shared/failures';
import { magicNumbers, type Scenario } from '../../../src/simulator';
import { targetStateCodes } from '../../../src/shared/campaign-types';

/** How a target of each simulator scenario concludes in a campaign: its state code, and its failure type if any. */
export interface Conclusion {
  code: string;
  failureType?: FailureType;
  /** Whether the API creates a call for it (a refused create creates none). */
  creates: boolean;
}

const achieved: Conclusion = { code: targetStateCodes.achieved, creates: true };

export const conclusions: Partial<Record<Scenario, Conclusion>> = {
  achieved,
  partial: { code: targetStateCodes.partial, creates: true },
  notAchieved: { code: targetStateCodes.not_achieved, creates: true },
  failed: { code: targetStateCodes.failed, failureType: FailureType.CallFailed, creates: true },
  canceled: { code: targetStateCodes.canceled, failureType: FailureType.CallCanceled, creates: true },
  neverEnds: { code: targetStateCodes.timed_out, failureType: FailureType.CallTimedOut, creates: true },
  lateEnrichment: achieved,
  noEnrichment: achieved,
  rateLimitedOnce: achieved,
  rateLimitedAlways: { code: targetStateCodes.failed, failureType: FailureType.RateLimited, creates: false },
  serverErrorOnce: achieved,
  badRequest: { code: targetStateCodes.failed, failureType: FailureType.InvalidInput, creates: false },
  rateLimitedOnceOnRead: achieved,
  serverErrorOnceOnRead: achieved,
  malformedJsonOnceOnRead: achieved,
  unknownStatus: achieved,
  vanishes: { code: targetStateCodes.failed, failureType: FailureType.CallNotFound, creates: true },
  htmlErrorOnceOnRead: achieved,
  slowCreate: achieved,
};

/** Scenarios that create exactly one call and conclude without pausing the campaign (no 402, no endless call). */
export const oneCallScenarios: Scenario[] = [
  'partial',
  'notAchieved',
  'failed',
  'canceled',
  'lateEnrichment',
  'noEnrichment',
  'rateLimitedOnce',
  'serverErrorOnce',
  'rateLimitedOnceOnRead',
  'serverErrorOnceOnRead',
  'malformedJsonOnceOnRead',
  'unknownStatus',
  'vanishes',
  'htmlErrorOnceOnRead',
  'slowCreate',
];

export interface Target {
  toPhoneNumber: string;
  objective: string;
  expected: Conclusion;
  scenario: Scenario;
}

/**
 * `plain` distinct ordinary numbers (they end `achieved`) with one target per scenario spread among them at fixed
 * places. Every number is distinct, so "calls per number" counts dials per person.
 */
export function campaignTargets(plain: number, scenarios: Scenario[], firstNumber: number): Target[] {
  const list: Target[] = Array.from({ length: plain }, (_, i) => ({
    toPhoneNumber: `+1415${String(firstNumber + i).padStart(7, '0')}`,
    objective: `Ask about opening hours (${i})`,
    expected: achieved,
    scenario: 'achieved' as Scenario,
  }));
  const step = Math.max(1, Math.floor(list.length / (scenarios.length + 1)));
  scenarios.forEach((scenario, n) => {
    const target = {
      toPhoneNumber: magicNumbers[scenario],
      objective: `Scenario ${scenario}`,
      expected: conclusions[scenario]!,
      scenario,
    };
    list.splice(Math.min(list.length, (n + 1) * step + n), 0, target);
  });
  return list;
}

export function writeTargetsCsv(path: string, targets: Target[]): void {
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  writeFileSync(
    path,
    ['to_phone_number,objective', ...targets.map((t) => `${t.toPhoneNumber},${quote(t.objective)}`)].join('\n') + '\n',
  );
}

/** Calls the simulator created, by number. */
export function callsByNumber(calls: readonly { toPhoneNumber: string }[]): Map<string, number> {
  const byNumber = new Map<string, number>();
  for (const call of calls) byNumber.set(call.toPhoneNumber, (byNumber.get(call.toPhoneNumber) ?? 0) + 1);
  return byNumber;
}
