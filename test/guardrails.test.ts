import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { getCountries, getExampleNumber } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';
import { describe, expect, it } from 'vitest';
import { checkCallRequest, checkPhoneNumber, limits, type GuardRailFailureType, type Verdict } from '../src/guardrails';
import { renderShortNumberTable } from '../src/guardrails/short-number-table';

const objective = 'Ask about their return policy';
const call = (toPhoneNumber: unknown) => ({ toPhoneNumber, objective });
const withFields = (fields: Record<string, unknown>) => ({ toPhoneNumber: '+14155550100', objective, ...fields });

type Field = Extract<Verdict, { ok: false }>['field'];
// A row reads as its test name: "refuses <label> with <type> on <field>"; the input comes last.
type BadInput = [label: string, type: GuardRailFailureType, field: Field, input: unknown];
const bad = (label: string, input: unknown, type: GuardRailFailureType, field: Field): BadInput => [
  label,
  type,
  field,
  input,
];
const badInputs: BadInput[] = [
  // Not E.164: refused, never normalised.
  bad('a national-format number with parentheses', call('(415) 555-1234'), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad('a number with spaces', call('+1 415 555 1234'), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad('a number with dashes', call('+1-415-555-1234'), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad('a number with dots', call('+1.415.555.1234'), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad('a tel: URI', call('tel:+14155551234'), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad('the 00 international prefix', call('0014155551234'), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad('a national number without a country code', call('4155551234'), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad('a number with a leading space', call(' +14155551234'), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad('a number with a trailing newline', call('+14155551234\n'), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad('a vanity number with letters', call('+1415FLOWERS'), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad('a lone plus sign', call('+'), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad('a country code starting with 0', call('+0123456789'), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad('16 digits', call('+1234567890123456'), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad('an empty string', call(''), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad("the contract's placeholder", call('+1{PHONE_NUMBER}'), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad('another template placeholder', call('{{phone}}'), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad('a number type', call(14155551234), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad('null', call(null), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad('undefined', call(undefined), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad('a missing toPhoneNumber', { objective }, 'InvalidPhoneNumber', 'toPhoneNumber'),
  // E.164 in form, but no such number can exist.
  bad('an unassigned US 555 number', call('+15555550100'), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad("Ofcom's drama range", call('+447700900123'), 'InvalidPhoneNumber', 'toPhoneNumber'),
  bad('an unassigned country code', call('+99912345678'), 'InvalidPhoneNumber', 'toPhoneNumber'),
  // Emergency numbers, other short codes and premium rate, of any territory.
  bad('US 911 in E.164 form', call('+1911'), 'ForbiddenNumber', 'toPhoneNumber'),
  bad('911 typed without a plus', call('911'), 'ForbiddenNumber', 'toPhoneNumber'),
  bad('112 typed without a plus', call('112'), 'ForbiddenNumber', 'toPhoneNumber'),
  bad('000 typed without a plus', call('000'), 'ForbiddenNumber', 'toPhoneNumber'),
  bad('999 typed without a plus', call('999'), 'ForbiddenNumber', 'toPhoneNumber'),
  bad('UK 999', call('+44999'), 'ForbiddenNumber', 'toPhoneNumber'),
  bad('UK 112', call('+44112'), 'ForbiddenNumber', 'toPhoneNumber'),
  bad('French 112', call('+33112'), 'ForbiddenNumber', 'toPhoneNumber'),
  bad('Australian 000', call('+61000'), 'ForbiddenNumber', 'toPhoneNumber'),
  bad('German 110', call('+49110'), 'ForbiddenNumber', 'toPhoneNumber'),
  bad('a German 116 short code', call('+4916116'), 'ForbiddenNumber', 'toPhoneNumber'),
  bad('the US 988 crisis line', call('+1988'), 'ForbiddenNumber', 'toPhoneNumber'),
  bad('a European 116 helpline', call('+49116111'), 'ForbiddenNumber', 'toPhoneNumber'),
  bad('a US premium-rate 900 number', call('+19005550100'), 'ForbiddenNumber', 'toPhoneNumber'),
  bad('an Australian premium short code', call('+611234'), 'ForbiddenNumber', 'toPhoneNumber'),
  bad('an 8-digit Australian premium short code', call('+6119123456'), 'ForbiddenNumber', 'toPhoneNumber'),
  bad('a US premium SMS short code', call('+124280'), 'ForbiddenNumber', 'toPhoneNumber'),
  bad('a short code in no table', call('+44123'), 'ForbiddenNumber', 'toPhoneNumber'),
  // The other fields.
  bad('a missing objective', { toPhoneNumber: '+14155550100' }, 'InvalidInput', 'objective'),
  bad('an empty objective', withFields({ objective: '' }), 'InvalidInput', 'objective'),
  bad('a whitespace objective', withFields({ objective: ' \n\t ' }), 'InvalidInput', 'objective'),
  bad('an objective of 2001 characters', withFields({ objective: 'a'.repeat(2001) }), 'InvalidInput', 'objective'),
  bad('a number objective', withFields({ objective: 42 }), 'InvalidInput', 'objective'),
  bad('an empty businessName', withFields({ businessName: '  ' }), 'InvalidInput', 'businessName'),
  bad(
    'a businessName of 201 characters',
    withFields({ businessName: 'b'.repeat(201) }),
    'InvalidInput',
    'businessName',
  ),
  bad('a number businessName', withFields({ businessName: 7 }), 'InvalidInput', 'businessName'),
  bad('a null businessName', withFields({ businessName: null }), 'InvalidInput', 'businessName'),
  bad('an ftp website', withFields({ website: 'ftp://x' }), 'InvalidInput', 'website'),
  bad('a javascript: website', withFields({ website: 'javascript:alert(1)' }), 'InvalidInput', 'website'),
  bad('a website that is not a URL', withFields({ website: 'not a url' }), 'InvalidInput', 'website'),
  bad('a relative website', withFields({ website: 'example.com' }), 'InvalidInput', 'website'),
  bad(
    'a website of 2049 characters',
    withFields({ website: `https://example.com/${'a'.repeat(2029)}` }),
    'InvalidInput',
    'website',
  ),
  bad('a number website', withFields({ website: 80 }), 'InvalidInput', 'website'),
  // Not a request at all.
  bad('null input', null, 'InvalidInput', 'input'),
  bad('an array', [call('+14155550100')], 'InvalidInput', 'input'),
  bad('a string', '+14155550100', 'InvalidInput', 'input'),
  bad('a number input', 14155550100, 'InvalidInput', 'input'),
];

describe('checkCallRequest', () => {
  it.each(badInputs)('refuses %s with %s on %s', (_label, type, field, input) => {
    const verdict = checkCallRequest(input);
    expect(verdict).toMatchObject({ ok: false, type, field });
    if (verdict.ok) return;
    expect(verdict.message).toMatch(/^[^\n]+\.$/);
  });

  it('has at least 40 bad inputs in its table', () => {
    expect(badInputs.length).toBeGreaterThanOrEqual(40);
  });

  it.each([
    ['+14155550100', 'US'],
    ['+442071838750', 'GB'],
    ['+15005550100', 'US'],
    ['+15005550199', 'US'],
    ['+33612345678', 'FR'],
    ['+6834002', 'NU'],
  ])('accepts %s and reports region %s', (toPhoneNumber, region) => {
    expect(checkCallRequest({ toPhoneNumber, objective })).toEqual({
      ok: true,
      request: { toPhoneNumber, objective },
      region,
    });
  });

  it('returns trimmed text and leaves out absent optional fields instead of setting them to undefined', () => {
    const verdict = checkCallRequest({
      toPhoneNumber: '+14155550100',
      objective: `  ${objective}\n`,
      website: undefined,
    });
    expect(verdict).toEqual({ ok: true, request: { toPhoneNumber: '+14155550100', objective }, region: 'US' });
    if (!verdict.ok) return;
    expect(Object.keys(verdict.request)).toEqual(['toPhoneNumber', 'objective']);
  });

  it('keeps trimmed businessName and website, and drops fields it does not know', () => {
    const verdict = checkCallRequest({
      toPhoneNumber: '+14155550100',
      objective,
      businessName: ' Acme Books ',
      website: ' https://acme.example/returns?lang=en ',
      to_phone_number: '+1911',
      apiKey: 'not copied',
    });
    expect(verdict).toEqual({
      ok: true,
      request: {
        toPhoneNumber: '+14155550100',
        objective,
        businessName: 'Acme Books',
        website: 'https://acme.example/returns?lang=en',
      },
      region: 'US',
    });
  });

  it('accepts text exactly at each length limit', () => {
    expect(limits).toEqual({ objectiveMaxLength: 2000, businessNameMaxLength: 200, websiteMaxLength: 2048 });
    const website = `https://example.com/${'a'.repeat(limits.websiteMaxLength - 'https://example.com/'.length)}`;
    const verdict = checkCallRequest(
      withFields({ objective: 'o'.repeat(2000), businessName: 'b'.repeat(200), website }),
    );
    expect(verdict.ok).toBe(true);
  });

  it('reports only the first problem, in the order toPhoneNumber, objective, businessName, website', () => {
    const allWrong = { toPhoneNumber: '911', objective: '', businessName: '', website: 'ftp://x' };
    expect(checkCallRequest(allWrong)).toMatchObject({ field: 'toPhoneNumber' });
    expect(checkCallRequest({ ...allWrong, toPhoneNumber: '+14155550100' })).toMatchObject({ field: 'objective' });
    expect(checkCallRequest({ ...allWrong, toPhoneNumber: '+14155550100', objective })).toMatchObject({
      field: 'businessName',
    });
    expect(
      checkCallRequest({ ...allWrong, toPhoneNumber: '+14155550100', objective, businessName: 'Acme' }),
    ).toMatchObject({ field: 'website' });
  });

  it.each([
    ['undefined', undefined],
    ['a symbol', Symbol('x')],
    ['a function', () => '+14155550100'],
    ['a bigint', 14155550100n],
    [
      'an object whose getters throw',
      {
        get toPhoneNumber(): string {
          throw new Error('boom');
        },
      },
    ],
    [
      'a proxy whose traps throw',
      new Proxy(
        {},
        {
          get: () => {
            throw new Error('boom');
          },
        },
      ),
    ],
    ['a symbol phone number', call(Symbol('+14155550100'))],
    ['a megabyte of digits', call(`+1${'5'.repeat(1_000_000)}`)],
  ])('never throws, even for %s', (_label, input) => {
    expect(() => checkCallRequest(input)).not.toThrow();
    expect(checkCallRequest(input).ok).toBe(false);
  });
});

describe('messages', () => {
  it('shows the expected form and what was given', () => {
    expect(checkPhoneNumber('(415) 555-1234')).toMatchObject({
      message: 'toPhoneNumber must be in E.164 form, such as +14155551234: got "(415) 555-1234".',
    });
  });

  it('quotes at most the first 40 characters of a bad value', () => {
    const verdict = checkPhoneNumber(`+1 415 555 1234 ${'x '.repeat(100)}`);
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    const quoted = /got "(.*)"\.$/.exec(verdict.message)?.[1];
    expect(quoted).toBe(`+1 415 555 1234 ${'x '.repeat(12)}…`);
  });

  it('does not echo a value shaped like an API key', () => {
    const secret = 'ak_live_9f8e7d6c5b4a39281706f5e4';
    const verdict = checkCallRequest(call(secret));
    expect(verdict).toMatchObject({ ok: false, type: 'InvalidPhoneNumber' });
    expect(JSON.stringify(verdict)).not.toContain('9f8e7d6c');
  });

  it('does not echo a website, whose query string may carry a token', () => {
    const verdict = checkCallRequest(withFields({ website: 'ftp://files.example/?token=s3cr3t-value' }));
    expect(verdict).toMatchObject({ ok: false, field: 'website' });
    expect(JSON.stringify(verdict)).not.toContain('s3cr3t');
  });

  it("names the contract's placeholder when it is passed literally", () => {
    expect(checkPhoneNumber('+1{PHONE_NUMBER}')).toMatchObject({
      ok: false,
      type: 'InvalidPhoneNumber',
      message: expect.stringContaining("placeholder like the API contract's +1{PHONE_NUMBER}"),
    });
  });

  it.each([
    ['+1911', 'an emergency number in the US and Canada (NANP)'],
    ['999', 'an emergency number in GB'],
    ['+1988', 'an emergency or crisis line in the US and Canada (NANP)'],
    ['+611234', 'a premium-rate short code in AU'],
    ['+19005550100', 'a premium-rate number'],
    ['+44123', 'a short code'],
    ['+15555550100', 'not a number that can exist'],
  ])('says why %s is refused: %s', (value, reason) => {
    expect(checkPhoneNumber(value)).toMatchObject({ ok: false, message: expect.stringContaining(reason) });
  });
});

describe('checkPhoneNumber', () => {
  it("accepts the simulator's magic test numbers +15005550100 to +15005550199", () => {
    for (let n = 0; n <= 99; n++) {
      const e164 = `+150055501${String(n).padStart(2, '0')}`;
      expect(checkPhoneNumber(e164)).toEqual({ ok: true, e164, region: 'US' });
    }
  });

  it('accepts the example mobile number of every territory: no short-number pattern blocks a real number', () => {
    const refused = getCountries()
      .map((country) => getExampleNumber(country, examples)?.number)
      .filter((e164): e164 is NonNullable<typeof e164> => e164 !== undefined)
      .filter((e164) => !checkPhoneNumber(e164).ok);
    expect(refused).toEqual([]);
  });

  it('refuses emergency numbers typed without a plus as forbidden, not as badly formatted', () => {
    for (const digits of ['911', '112', '000', '999', '110', '119', '100', '101', '988']) {
      expect(checkPhoneNumber(digits)).toMatchObject({ ok: false, type: 'ForbiddenNumber' });
    }
  });
});

describe('short-number table', () => {
  const tsvPath = path.resolve(__dirname, '../../shared/data/short-numbers-by-territory.tsv');
  const tsvPresent = existsSync(tsvPath);
  if (!tsvPresent) console.warn(`Skipping the short-number table freshness check: ${tsvPath} is not present.`);

  it.skipIf(!tsvPresent)('is up to date with the TSV it is generated from', () => {
    const committed = readFileSync(path.resolve(__dirname, '../src/guardrails/short-numbers.generated.ts'), 'utf8');
    expect(renderShortNumberTable(readFileSync(tsvPath, 'utf8'))).toBe(committed);
  });

  it('refuses to render data without its libphonenumber attribution', () => {
    expect(() => renderShortNumberTable('territory\temergency_pattern\nUS\t911\n')).toThrow(/Apache-2.0/);
  });

  it('refuses to render a pattern that is not a regex', () => {
    const tsv = [
      '# Derived from google/libphonenumber resources/ShortNumberMetadata.xml @ abc (Apache-2.0)',
      'territory\temergency_pattern\texpanded_emergency_pattern\tshort_premium_rate_pattern',
      'US\t9(11\t\t',
    ].join('\n');
    expect(() => renderShortNumberTable(tsv)).toThrow(SyntaxError);
  });
});
