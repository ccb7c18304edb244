import { jurisdictionOf } from './jurisdiction';
import { type CapRule, type ContactPolicy, defaultContactPolicy } from './laws';

/** At most `limit` calls within any `windowMs`, counted per number (`number`) or per number within one campaign. */
export interface FrequencyCap {
  name: string;
  limit: number;
  windowMs: number;
  scope: 'number' | 'campaign';
}

/**
 * Every frequency cap a call to `e164` must respect; all of them apply, so the strictest decides. First the
 * policy's own (`per-number` across everything, `per-campaign` outside the campaign's retry ladder), then those of
 * the number's jurisdictions, most specific first (`US-FL per-number (Fla. Stat. 501.059(8)(b))`), which a policy
 * file may override row by row.
 */
export function capsFor(e164: string, policy: ContactPolicy = defaultContactPolicy): FrequencyCap[] {
  const caps = [
    cap('per-number', 'number', policy.caps.perNumber),
    cap('per-campaign', 'campaign', policy.caps.perCampaign),
  ];
  for (const code of jurisdictionOf(e164).codes) {
    const rules = policy.jurisdictions[code]?.caps;
    if (rules?.perNumber) caps.push(cap(`${code} per-number (${rules.perNumber.source})`, 'number', rules.perNumber));
    if (rules?.perCampaign) {
      caps.push(cap(`${code} per-campaign (${rules.perCampaign.source})`, 'campaign', rules.perCampaign));
    }
  }
  return caps;
}

function cap(name: string, scope: FrequencyCap['scope'], { limit, windowMs }: CapRule): FrequencyCap {
  return { name, limit, windowMs, scope };
}
