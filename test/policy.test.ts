import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  callingHoursFor,
  CallingWindowError,
  capsFor,
  ContactPolicyError,
  defaultContactPolicy,
  jurisdictionOf,
  loadContactPolicy,
  narrowWindow,
  parseContactPolicy,
  wholeCampaignMs,
  zoneOfNumber,
} from '../src/policy';
import { renderAreaCodeTable, renderTimezoneTable } from '../src/policy/policy-data';
import { timezonesByPrefix } from '../src/policy/timezones.generated';

const day = 24 * 3600_000;
const california = '+14155550123';
const florida = '+13055550123';
const oklahoma = '+14055550123';
const ontario = '+16135550123';
const london = '+442079460123';

/** The one ContactPolicyError `run` throws, for its issues. */
function policyError(run: () => unknown): ContactPolicyError {
  try {
    run();
  } catch (error) {
    if (error instanceof ContactPolicyError) return error;
    throw error;
  }
  throw new Error('expected a ContactPolicyError');
}

describe('the time zone of a number', () => {
  it('presumes +14155550123 is in America/Los_Angeles', () => {
    expect(zoneOfNumber(california)).toEqual({ kind: 'known', zone: 'America/Los_Angeles', prefix: '+1415' });
  });

  it('says a number whose prefix spans several zones is unknown, naming them', () => {
    expect(zoneOfNumber('+12083301234')).toEqual({
      kind: 'unknown',
      reason: 'prefix +1208330 spans America/Boise and America/Los_Angeles',
    });
  });

  it('takes the longest prefix: a +1208 number in a Denver-only block is known', () => {
    expect(zoneOfNumber('+12082011234')).toMatchObject({ kind: 'known', zone: 'America/Denver', prefix: '+1208201' });
  });

  it('says a number that only matches the whole of +1 is unknown (a toll-free number has no zone)', () => {
    const zone = zoneOfNumber('+18005550123');
    expect(zone).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/^prefix \+1 spans .* more zones$/) });
  });

  it('says a number no prefix matches is unknown', () => {
    expect(zoneOfNumber('+99912345678')).toEqual({
      kind: 'unknown',
      reason: 'no prefix of +99912345678 has a known time zone',
    });
  });

  it('says a string that is not E.164 is unknown rather than guess', () => {
    expect(zoneOfNumber('(415) 555-0123')).toMatchObject({ kind: 'unknown', reason: expect.stringContaining('E.164') });
  });

  it('presumes a London number is in Europe/London', () => {
    expect(zoneOfNumber(london)).toMatchObject({ kind: 'known', zone: 'Europe/London' });
  });

  it("names only zones this runtime's tz database knows", () => {
    const zones = new Set(
      timezonesByPrefix.split(/\s+/).flatMap((token) => (token.includes('/') ? token.split('&') : [])),
    );
    expect(zones.size).toBeGreaterThan(250);
    for (const zone of zones) expect(() => new Intl.DateTimeFormat('en-US', { timeZone: zone }), zone).not.toThrow();
  });
});

describe('the generated tables', () => {
  const dataDir = path.resolve(__dirname, '../../shared/data');
  const tables = [
    ['timezones-by-prefix.txt', 'timezones.generated.ts', renderTimezoneTable],
    ['nanp-area-codes.tsv', 'area-codes.generated.ts', renderAreaCodeTable],
  ] as const;

  for (const [source, generated, render] of tables) {
    const sourcePath = path.join(dataDir, source);
    const present = existsSync(sourcePath);
    if (!present) console.warn(`Skipping the ${generated} freshness check: ${sourcePath} is not present.`);

    it.skipIf(!present)(`${generated} is up to date with ${source}`, () => {
      const committed = readFileSync(path.resolve(__dirname, '../src/policy', generated), 'utf8');
      expect(render(readFileSync(sourcePath, 'utf8'))).toBe(committed);
    });
  }

  it("keeps libphonenumber's attribution at the top of both files", () => {
    for (const [, generated] of tables) {
      const head = readFileSync(path.resolve(__dirname, '../src/policy', generated), 'utf8').slice(0, 1500);
      expect(head).toContain('google/libphonenumber');
      expect(head).toContain('f7e3e88c92b905c8d6edb81f336dbe25edc05b52 (Apache-2.0)');
      expect(head).toContain('Licensed under the Apache License, Version 2.0');
    }
  });

  it('refuses to render the time zone map without its licence header', () => {
    expect(() => renderTimezoneTable('1201|America/New_York\n')).toThrow(/Apache-2.0/);
  });

  it('refuses an area code assigned to a region it cannot name', () => {
    expect(() => renderAreaCodeTable('area_code\tregion\n201\tAtlantis\n')).toThrow(/Atlantis/);
  });
});

describe('the jurisdiction and calling hours of a number', () => {
  it('gives a Florida number (305) 08:00–20:00 under Florida and federal law', () => {
    expect(callingHoursFor(florida)).toMatchObject({
      start: '08:00',
      end: '20:00',
      source: 'Fla. Stat. 501.059(8)(a); 47 CFR 64.1200(c)(1)',
      zone: { kind: 'known', zone: 'America/New_York' },
      jurisdiction: { codes: ['US-FL', 'US'], country: 'US', nanp: 'US', region: 'US-FL', name: 'Florida' },
    });
  });

  it('gives a California number the federal 08:00–21:00', () => {
    expect(callingHoursFor(california)).toMatchObject({
      start: '08:00',
      end: '21:00',
      source: '47 CFR 64.1200(c)(1)',
      jurisdiction: { region: 'US-CA' },
    });
  });

  it('gives an Oklahoma number (405) 08:00–20:00 under Oklahoma law', () => {
    expect(callingHoursFor(oklahoma)).toMatchObject({
      start: '08:00',
      end: '20:00',
      source: 'Okla. Stat. tit. 15 §775C.4; 47 CFR 64.1200(c)(1)',
      jurisdiction: { region: 'US-OK', name: 'Oklahoma' },
    });
  });

  it("gives a Canadian number the package's default hours, which are not a law", () => {
    expect(callingHoursFor(ontario)).toMatchObject({
      start: '08:00',
      end: '21:00',
      source: 'agentphone-temporal default (not a law)',
      zone: { kind: 'known', zone: 'America/Toronto' },
      jurisdiction: { codes: ['CA-ON', 'CA'], country: 'CA', nanp: 'CA', name: 'Ontario' },
    });
  });

  it('places a Puerto Rico number under US federal law', () => {
    expect(jurisdictionOf('+17875550123')).toMatchObject({ codes: ['US-PR', 'US'], nanp: 'US', name: 'Puerto Rico' });
    expect(callingHoursFor('+17875550123').source).toBe('47 CFR 64.1200(c)(1)');
  });

  it('calls a Jamaican number other-NANP, with its own country', () => {
    expect(jurisdictionOf('+18765550123')).toMatchObject({ codes: ['JM'], country: 'JM', nanp: 'other-NANP' });
  });

  it('knows only the country of an area code that spans provinces', () => {
    expect(jurisdictionOf('+19025550123')).toEqual({
      codes: ['CA'],
      country: 'CA',
      nanp: 'CA',
      name: 'Nova Scotia/Prince Edward Island',
      areaCode: '902',
    });
  });

  it('reads the country of a number outside the NANP from libphonenumber', () => {
    expect(jurisdictionOf(london)).toEqual({ codes: ['GB'], country: 'GB', name: 'United Kingdom' });
    expect(callingHoursFor(london).zone).toMatchObject({ zone: 'Europe/London' });
  });
});

describe("a campaign's own window", () => {
  const floridaHours = callingHoursFor(florida);

  it('narrows the legal hours', () => {
    expect(narrowWindow(floridaHours, { start: '09:00', end: '17:00' })).toMatchObject({
      start: '09:00',
      end: '17:00',
      source: 'Fla. Stat. 501.059(8)(a); 47 CFR 64.1200(c)(1); narrowed by the campaign window 09:00–17:00',
      jurisdiction: { region: 'US-FL' },
    });
  });

  it('never widens them', () => {
    expect(narrowWindow(floridaHours, { start: '07:00', end: '22:00' })).toMatchObject({
      start: '08:00',
      end: '20:00',
    });
  });

  it('leaves them as they are when the campaign has none', () => {
    expect(narrowWindow(floridaHours)).toBe(floridaHours);
  });

  it('that never meets the legal hours is an error that says so', () => {
    expect(() => narrowWindow(floridaHours, { start: '21:00', end: '07:00' })).toThrow(CallingWindowError);
    expect(() => narrowWindow(floridaHours, { start: '21:00', end: '07:00' })).toThrow(
      /campaign window 21:00–07:00 and the calling hours 08:00–20:00 .* do not overlap/,
    );
  });

  it('that meets them in two separate spans is an error naming both', () => {
    expect(() => narrowWindow(floridaHours, { start: '19:00', end: '09:00' })).toThrow(
      /separate spans \(08:00–09:00 and 19:00–20:00\)/,
    );
  });

  it('may wrap past midnight where the hours do too', () => {
    expect(narrowWindow({ start: '22:00', end: '06:00' }, { start: '20:00', end: '02:00' })).toEqual({
      start: '22:00',
      end: '02:00',
    });
  });
});

describe('frequency caps', () => {
  it('by default allow 3 calls to a number in 24 hours and 1 per campaign', () => {
    expect(capsFor(california)).toEqual([
      { name: 'per-number', limit: 3, windowMs: day, scope: 'number' },
      { name: 'per-campaign', limit: 1, windowMs: wholeCampaignMs, scope: 'campaign' },
    ]);
  });

  it("add Florida's 3 calls in 24 hours for a Florida number", () => {
    expect(capsFor(florida)).toContainEqual({
      name: 'US-FL per-number (Fla. Stat. 501.059(8)(b))',
      limit: 3,
      windowMs: day,
      scope: 'number',
    });
  });

  it("apply the recipients' hours to campaigns unless the file says hours.campaigns: false", () => {
    expect(defaultContactPolicy.campaignHours).toBe(true);
    expect(parseContactPolicy({}).campaignHours).toBe(true);
    expect(parseContactPolicy({ hours: { campaigns: false } }).campaignHours).toBe(false);
    expect(() => parseContactPolicy({ hours: { campaigns: 'no' } })).toThrow(/hours\.campaigns: must be true or false/);
  });

  it("keep Oklahoma's cap when a policy raises its own", () => {
    const policy = parseContactPolicy({ caps: { perNumber: { limit: 5 } } });
    expect(capsFor(oklahoma, policy).map(({ limit }) => limit)).toEqual([5, 1, 3]);
  });

  it('follow a per-jurisdiction override of the policy file', () => {
    const policy = parseContactPolicy({
      jurisdictions: {
        'US-FL': { caps: { perNumber: { limit: 2 } } },
        'US-CA': { reference: 'house rule', caps: { perCampaign: { limit: 2, window: '7d' } } },
      },
    });
    expect(capsFor(florida, policy)).toContainEqual({
      name: 'US-FL per-number (contact policy jurisdictions.US-FL)',
      limit: 2,
      windowMs: day,
      scope: 'number',
    });
    expect(capsFor(california, policy)).toContainEqual({
      name: 'US-CA per-campaign (house rule (contact policy))',
      limit: 2,
      windowMs: 7 * day,
      scope: 'campaign',
    });
  });

  it('stay JSON, so they can travel to an activity unchanged', () => {
    expect(JSON.parse(JSON.stringify(capsFor(florida)))).toEqual(capsFor(florida));
  });
});

describe('the contact policy file', () => {
  it('is optional: without AGENTPHONE_CONTACT_POLICY the defaults apply', () => {
    expect(loadContactPolicy({})).toBe(defaultContactPolicy);
    expect(defaultContactPolicy.caps.perNumber).toMatchObject({ limit: 3, windowMs: day });
  });

  it('is read from the path AGENTPHONE_CONTACT_POLICY names', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'contact-policy-'));
    try {
      const file = path.join(dir, 'policy.json');
      writeFileSync(file, JSON.stringify({ hours: { default: { start: '09:00', end: '18:00' } } }));
      const policy = loadContactPolicy({ AGENTPHONE_CONTACT_POLICY: file });
      expect(policy.origin).toBe(file);
      expect(callingHoursFor(ontario, policy)).toMatchObject({
        start: '09:00',
        end: '18:00',
        source: 'contact policy hours.default',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with unknown keys, impossible hours and a bad duration fails with one error listing each at its path', () => {
    const file = {
      caps: { perNumber: { limit: 3, window: 'soon' }, perCampagn: { limit: 1 } },
      hours: { default: { start: '25:00', end: '08:00' } },
      jurisdictions: { 'US-FL': { hours: { start: '08:00', end: '08:00' }, note: 'x' } },
    };
    const error = policyError(() =>
      loadContactPolicy({ AGENTPHONE_CONTACT_POLICY: 'p.json' }, () => JSON.stringify(file)),
    );
    expect(error.name).toBe('ContactPolicyError');
    expect(error.file).toBe('p.json');
    expect(error.issues.map((issue) => issue.path).sort()).toEqual([
      'caps.perCampagn',
      'caps.perNumber.window',
      'hours.default.start',
      'jurisdictions.US-FL.hours.end',
      'jurisdictions.US-FL.note',
    ]);
    expect(error.message).toMatch(/^Invalid contact policy p\.json: .* unset AGENTPHONE_CONTACT_POLICY/);
    expect(error.message).toContain('  - caps.perNumber.window: "soon" is not a positive duration');
    expect(error.message).toContain('  - hours.default.start: "25:00" is not an HH:MM clock');
    expect(error.message).toContain('  - jurisdictions.US-FL.hours.end: equals start (08:00)');
  });

  it.each([
    ['a limit of 0', { limit: 0 }, 'caps.perNumber.limit', /at least 1/],
    ['a negative limit', { limit: -1 }, 'caps.perNumber.limit', /at least 1/],
    ['a fractional limit', { limit: 1.5 }, 'caps.perNumber.limit', /whole number/],
    ['a window of 0', { window: '0' }, 'caps.perNumber.window', /positive duration/],
    ['a negative window', { window: '-1h' }, 'caps.perNumber.window', /positive duration/],
    ['a window of no unit ms knows', { window: '1 fortnight' }, 'caps.perNumber.window', /positive duration/],
  ])('refuses %s', (_label, perNumber, issuePath, message) => {
    const { issues } = policyError(() => parseContactPolicy({ caps: { perNumber } }));
    expect(issues).toEqual([{ path: issuePath, message: expect.stringMatching(message) }]);
  });

  it('refuses a jurisdiction that is not an ISO 3166 code', () => {
    const { issues } = policyError(() => parseContactPolicy({ jurisdictions: { florida: {} } }));
    expect(issues).toEqual([{ path: 'jurisdictions.florida', message: expect.stringContaining('ISO 3166') }]);
  });

  it('says so when the file cannot be read or is not JSON', () => {
    const missing = policyError(() => loadContactPolicy({ AGENTPHONE_CONTACT_POLICY: '/nonexistent/policy.json' }));
    expect(missing.issues).toEqual([{ path: '', message: 'cannot be read (ENOENT)' }]);
    const garbled = policyError(() => loadContactPolicy({ AGENTPHONE_CONTACT_POLICY: 'p.json' }, () => '{ caps: '));
    expect(garbled.issues).toEqual([{ path: '', message: expect.stringMatching(/^is not JSON/) }]);
    expect(garbled.message).toContain('  - (file): is not JSON');
  });

  it("overrides a jurisdiction's hours, which still sit within the federal ones", () => {
    const policy = parseContactPolicy({
      jurisdictions: { 'US-TX': { reference: 'a made-up rule for the test', hours: { start: '09:00', end: '21:30' } } },
    });
    expect(callingHoursFor('+12145550123', policy)).toMatchObject({
      start: '09:00',
      end: '21:00',
      source: 'a made-up rule for the test (contact policy); 47 CFR 64.1200(c)(1)',
    });
    expect(callingHoursFor(florida, policy)).toMatchObject({ start: '08:00', end: '20:00' });
  });

  it('resolves to a frozen policy, so no caller can change the rules in place', () => {
    const policy = parseContactPolicy({});
    expect(Object.isFrozen(policy.jurisdictions['US-FL']?.hours)).toBe(true);
    expect(policy.jurisdictions['US-FL']).toEqual(defaultContactPolicy.jurisdictions['US-FL']);
  });
});
