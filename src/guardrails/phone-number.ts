import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import metadata from 'libphonenumber-js/max/metadata';
import { FailureType } from '../shared/failures';
import { crisisLines } from './crisis-lines';
import { describeType, quote } from './describe';
import { shortNumberTable } from './short-numbers.generated';

export type PhoneNumberVerdict =
  | { ok: true; e164: string; region: string | undefined }
  | { ok: false; type: 'InvalidPhoneNumber' | 'ForbiddenNumber'; message: string };

const e164 = /^\+[1-9]\d{1,14}$/;
// Digits typed without "+" are not E.164, but "911" or "112" must still be refused as an emergency number.
const bareDigits = /^\d{1,15}$/;
// Shorter national numbers are short codes unless libphonenumber knows them as real (Niue has 4-digit numbers).
const shortCodeMaxDigits = 6;
const example = '+14155551234';
const neverCalled = 'emergency, short-code and premium-rate numbers are never called.';

const shortNumberKinds = ['emergency', 'expandedEmergency', 'premium'] as const;
const emergencyKinds = ['emergency', 'expandedEmergency'] as const;
// Digits given with a "+" are read as local numbers only against emergency numbers ("+112", "+911"): crisis patterns
// are longer and collide with real prefixes (the Faroes' 181x would make "+1811" a crisis line in FO).
const emergencyKindsOfE164 = ['emergency'] as const;
type ShortNumberKind = (typeof shortNumberKinds)[number];

const kindDescriptions: Record<ShortNumberKind, string> = {
  emergency: 'an emergency number',
  expandedEmergency: 'an emergency or crisis line',
  premium: 'a premium-rate short code',
};

const crisisLinesByDigits = new Map(crisisLines.map((line) => [line.e164.slice(1), line]));

const nanp = 'the US and Canada (NANP)';
// N11 codes are dialled alike everywhere on +1, so "+1211" belongs to no one territory. They are looked up before the
// short-number table, which lists them territory by territory: its first match would name BB (whose 211 is police).
const nanpServiceCodes: Readonly<Record<string, { kind: string; service: string }>> = {
  '211': { kind: 'an N11 service code', service: 'community information and referral' },
  '311': { kind: 'an N11 service code', service: 'non-emergency city services' },
  '411': { kind: 'an N11 service code', service: 'directory assistance' },
  '511': { kind: 'an N11 service code', service: 'traffic and travel information' },
  '611': { kind: 'an N11 service code', service: 'telephone repair service' },
  '711': { kind: 'an N11 service code', service: 'the relay service for deaf and hard-of-hearing callers' },
  '811': { kind: 'an N11 service code', service: 'utility locating (US) and health advice (Canada)' },
  '911': { kind: kindDescriptions.emergency, service: 'police, fire and ambulance' },
  '988': { kind: kindDescriptions.expandedEmergency, service: 'suicide and mental-health crisis support' },
};

const territoriesByCallingCode = new Map<string, readonly string[]>([
  ...Object.entries(metadata.country_calling_codes),
  // Non-geographic codes (+800, +882...) have no territory, but must still be split off to find short codes.
  ...Object.keys(metadata.nonGeographic).map((code) => [code, []] as const),
]);

// The main territory of each calling code first (US for +1, GB for +44), as libphonenumber lists them: a message then
// names the territory a reader expects ("911 is an emergency number in US", not in Ascension Island).
const callingCodeTerritories = [...territoriesByCallingCode.values()];
const territoriesInOrder = new Set([
  ...callingCodeTerritories.flatMap((territories) => territories.slice(0, 1)),
  ...callingCodeTerritories.flat(),
  ...Object.keys(shortNumberTable).sort(),
]);

const fullMatch = (source: string | undefined) => (source === undefined ? undefined : new RegExp(`^(?:${source})$`));
const shortNumberPatterns = new Map<string, Record<ShortNumberKind, RegExp | undefined>>();
for (const territory of territoriesInOrder) {
  const patterns = shortNumberTable[territory];
  if (!patterns) continue;
  shortNumberPatterns.set(territory, {
    emergency: fullMatch(patterns.emergency),
    expandedEmergency: fullMatch(patterns.expandedEmergency),
    premium: fullMatch(patterns.premium),
  });
}

/**
 * Decides whether `value` is a number that may be called: E.164 exactly, not a crisis line, emergency number, short
 * code or premium-rate number of any territory, and a number that can exist. Never throws.
 */
export function checkPhoneNumber(value: unknown): PhoneNumberVerdict {
  if (value === undefined) {
    return invalid(`toPhoneNumber is missing: pass the number to call in E.164 form, such as ${example}.`);
  }
  if (typeof value !== 'string') {
    return invalid(`toPhoneNumber must be a string in E.164 form, such as ${example}: got ${describeType(value)}.`);
  }
  if (/[{}]/.test(value)) {
    return invalid(
      `toPhoneNumber holds a template placeholder like the API contract's +1{PHONE_NUMBER}: ` +
        `replace it with the real number in E.164 form, such as ${example}.`,
    );
  }

  const isE164 = e164.test(value);
  // Forbidden numbers are looked for before validity: most are not valid numbers, and must say why they are refused.
  const digits = isE164 ? value.slice(1) : bareDigits.test(value) ? value : undefined;
  const forbidden = digits === undefined ? undefined : findForbiddenReason(digits, isE164);
  if (forbidden) {
    return { ok: false, type: FailureType.ForbiddenNumber, message: `toPhoneNumber ${quote(value)} is ${forbidden}` };
  }

  if (!isE164) {
    return invalid(`toPhoneNumber must be in E.164 form, such as ${example}: got ${quote(value)}.`);
  }
  const phoneNumber = parsePhoneNumberFromString(value);
  if (!phoneNumber?.isValid()) {
    return invalid(`toPhoneNumber ${value} is not a number that can exist: check the country code and the digits.`);
  }
  return { ok: true, e164: phoneNumber.number, region: phoneNumber.country };
}

/** Why the number must never be called, as the end of a sentence, or undefined if nothing forbids it. */
function findForbiddenReason(digits: string, isE164: boolean): string | undefined {
  const forbidden = (kind: ShortNumberKind, territory: string) =>
    `${kindDescriptions[kind]} in ${territory}: ${neverCalled}`;

  // Full-length crisis lines by their exact digits, typed with or without the "+".
  const crisisLine = crisisLinesByDigits.get(digits);
  if (crisisLine) {
    const { kind, service, territory } = crisisLine;
    return `a ${kind} (${service}, ${territory}): crisis and emergency lines are never called.`;
  }

  const callingCode = [1, 2, 3].map((length) => digits.slice(0, length)).find((c) => territoriesByCallingCode.has(c));
  const nationalNumber = digits.slice(callingCode?.length ?? digits.length);
  // An N11 code as +1 N11, or as the three digits alone ("211" is also South Sudan's calling code).
  const n11 = callingCode === '1' ? nationalNumber : isE164 ? undefined : digits;
  const serviceCode = n11 === undefined ? undefined : nanpServiceCodes[n11];
  if (serviceCode) return `${serviceCode.kind} in ${nanp}, for ${serviceCode.service}: ${neverCalled}`;

  // The national part, in every territory that shares the calling code: +44 999 is GB's (and Jersey's) 999.
  for (const territory of territoriesByCallingCode.get(callingCode ?? '') ?? []) {
    const patterns = shortNumberPatterns.get(territory);
    const kind = shortNumberKinds.find((k) => patterns?.[k]?.test(nationalNumber));
    if (kind) return forbidden(kind, territory);
  }

  // The digits as dialled, in any territory: "112" is an emergency number wherever the caller happens to be. A
  // territory where they are an emergency number is named before one where they are only a crisis line.
  for (const kind of isE164 ? emergencyKindsOfE164 : emergencyKinds) {
    for (const [territory, patterns] of shortNumberPatterns) {
      if (patterns[kind]?.test(digits)) return forbidden(kind, territory);
    }
  }

  if (!isE164) return undefined;
  const phoneNumber = parsePhoneNumberFromString(`+${digits}`);
  if (callingCode !== undefined && nationalNumber.length <= shortCodeMaxDigits && !phoneNumber?.isValid()) {
    return `a short code, not a subscriber number: ${neverCalled}`;
  }
  if (phoneNumber?.getType() === 'PREMIUM_RATE') return `a premium-rate number: ${neverCalled}`;
  return undefined;
}

function invalid(message: string): PhoneNumberVerdict {
  return { ok: false, type: FailureType.InvalidPhoneNumber, message };
}
