import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { areaCodesByRegion } from './area-codes.generated';

export interface Jurisdiction {
  /**
   * The keys of the rule tables and of the policy file's `jurisdictions`, most specific first: `['US-FL', 'US']`,
   * `['CA-ON', 'CA']`, `['GB']`; empty when not even the country is known.
   */
  codes: readonly string[];
  /** ISO 3166-1 alpha-2 (`US`, `CA`, `JM`, `GB`), when known. US territories count as `US`. */
  country?: string;
  /** For +1 numbers: the United States, Canada, or another member of the North American Numbering Plan. */
  nanp?: 'US' | 'CA' | 'other-NANP';
  /** ISO 3166-2 subdivision (`US-FL`), when the area code names one. */
  region?: string;
  /** For people: `Florida`, `Nova Scotia/Prince Edward Island`, `United Kingdom`, `unknown`. */
  name: string;
  /** For +1 numbers: the three-digit area code. */
  areaCode?: string;
}

// Parsed once at module load: area code → its region code and name.
const regionByAreaCode = new Map<string, { code: string; name: string }>();
for (const row of areaCodesByRegion.trim().replace(/\n +/g, ' ').split('\n')) {
  const match = /^(\S+) ([^:]+): (.+)$/.exec(row);
  if (!match) throw new Error(`area-codes.generated.ts: malformed row ${JSON.stringify(row)}`);
  const [, code = '', name = '', areaCodes = ''] = match;
  for (const areaCode of areaCodes.split(' ')) regionByAreaCode.set(areaCode, { code, name });
}

// US territories that share +1 and fall under US federal law.
const usTerritories = new Set(['PR', 'VI', 'GU', 'AS', 'MP']);
const countryNames = new Intl.DisplayNames(['en'], { type: 'region' });

/**
 * Whose rules apply to a number, as far as the number tells: for +1 numbers, the state or province its area code
 * is assigned to; elsewhere, the country libphonenumber-js reads from it. A presumption like the time zone: the
 * owner of a ported or mobile number may live elsewhere.
 */
export function jurisdictionOf(e164: string): Jurisdiction {
  const country = parsePhoneNumberFromString(e164)?.country;
  if (!/^\+1\d{10}$/.test(e164)) {
    return country ? { codes: [country], country, name: nameOf(country) } : { codes: [], name: 'unknown' };
  }
  const areaCode = e164.slice(2, 5);
  const region = regionByAreaCode.get(areaCode);
  if (region) {
    const [regionCountry = ''] = region.code.split('-');
    const nanp = regionCountry === 'US' || regionCountry === 'CA' ? regionCountry : 'other-NANP';
    return {
      codes: region.code === regionCountry ? [regionCountry] : [region.code, regionCountry],
      country: regionCountry,
      nanp,
      ...(region.code !== regionCountry && { region: region.code }),
      name: region.name,
      areaCode,
    };
  }
  if (country && usTerritories.has(country)) {
    const code = `US-${country}`;
    return { codes: [code, 'US'], country: 'US', nanp: 'US', region: code, name: nameOf(country), areaCode };
  }
  if (country === 'US' || country === 'CA') {
    // An area code the table does not know (new, or non-geographic such as 800): the country's rules only.
    return { codes: [country], country, nanp: country, name: nameOf(country), areaCode };
  }
  return country
    ? { codes: [country], country, nanp: 'other-NANP', name: nameOf(country), areaCode }
    : { codes: [], nanp: 'other-NANP', name: 'unknown', areaCode };
}

function nameOf(country: string): string {
  return countryNames.of(country) ?? country;
}
