import { timezonesByPrefix } from './timezones.generated';

export type ZoneOfNumber =
  | {
      kind: 'known';
      /** IANA zone, e.g. `America/Los_Angeles`. */
      zone: string;
      /** The longest prefix of the table that matched, with its `+`: `+1415`. */
      prefix: string;
    }
  | { kind: 'unknown'; reason: string };

// Parsed once at module load: prefix → its zones (one, or several where the prefix spans them).
const zonesByPrefix = new Map<string, readonly string[]>();
let longestPrefix = 0;
for (const row of timezonesByPrefix.trim().replace(/\n +/g, ' ').split('\n')) {
  const [zones = '', ...prefixes] = row.split(' ');
  const list = Object.freeze(zones.split('&'));
  for (const prefix of prefixes) {
    zonesByPrefix.set(prefix, list);
    longestPrefix = Math.max(longestPrefix, prefix.length);
  }
}

/**
 * The time zone a number is presumed to be in, by the longest prefix of libphonenumber's map that it starts with.
 *
 * A presumption, not a fact: numbers move with their owners (portability) and mobiles travel. Where the prefix
 * spans several zones, or no prefix matches, the answer is `unknown` with a reason, and the caller holds the call
 * back (fails closed) rather than dial at a guessed hour. Pure; the table changes only with a new package version,
 * so a workflow should still learn the result from an activity, where it is recorded in history.
 */
export function zoneOfNumber(e164: string): ZoneOfNumber {
  if (!/^\+[1-9]\d{1,14}$/.test(e164)) return { kind: 'unknown', reason: `${JSON.stringify(e164)} is not E.164` };
  const digits = e164.slice(1);
  for (let length = Math.min(digits.length, longestPrefix); length > 0; length--) {
    const prefix = digits.slice(0, length);
    const zones = zonesByPrefix.get(prefix);
    if (!zones) continue;
    if (zones.length === 1 && zones[0]) return { kind: 'known', zone: zones[0], prefix: `+${prefix}` };
    return { kind: 'unknown', reason: `prefix +${prefix} spans ${listed(zones)}` };
  }
  return { kind: 'unknown', reason: `no prefix of ${e164} has a known time zone` };
}

function listed(zones: readonly string[]): string {
  const shown = zones.length > 5 ? [...zones.slice(0, 4), `${zones.length - 4} more zones`] : zones;
  return shown.length === 1 ? (shown[0] ?? '') : `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}
