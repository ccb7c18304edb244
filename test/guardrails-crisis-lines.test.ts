import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { checkCallRequest, checkPhoneNumber } from '../src/guardrails';
import { crisisLines } from '../src/guardrails/crisis-lines';

const objective = 'Ask about their return policy';

describe('the crisis-line table', () => {
  it('holds each number once, in E.164, with a service, a territory and an https source', () => {
    for (const line of crisisLines) {
      expect(line.e164).toMatch(/^\+[1-9]\d{1,14}$/);
      expect(line.service.trim()).not.toBe('');
      expect(line.territory).toMatch(/^[A-Z]{2}$/);
      expect(new URL(line.source).protocol).toBe('https:');
    }
    expect(new Set(crisisLines.map((line) => line.e164)).size).toBe(crisisLines.length);
  });

  it('covers at least the US, Canada, the UK, Ireland and Australia', () => {
    const territories = new Set(crisisLines.map((line) => line.territory));
    for (const territory of ['US', 'CA', 'GB', 'IE', 'AU']) expect(territories).toContain(territory);
  });

  it('lists only numbers that exist: libphonenumber knows each as valid, or it is a short number', () => {
    const unknown = crisisLines
      .map((line) => line.e164)
      .filter((e164) => {
        const phoneNumber = parsePhoneNumberFromString(e164);
        return !phoneNumber?.isValid() && (phoneNumber?.nationalNumber.length ?? 0) > 6;
      });
    expect(unknown).toEqual([]);
  });

  it('puts each number in the territory of its calling code', () => {
    const callingCodes: Record<string, string> = { US: '1', CA: '1', GB: '44', IE: '353', AU: '61', NZ: '64' };
    for (const line of crisisLines) expect(line.e164.startsWith(`+${callingCodes[line.territory]}`)).toBe(true);
  });
});

describe('full-length crisis and poison-control numbers', () => {
  it('refuses the 988 Lifeline\'s 1-800 number with a message naming the service and "US"', () => {
    expect(checkPhoneNumber('+18002738255')).toEqual({
      ok: false,
      type: 'ForbiddenNumber',
      message:
        'toPhoneNumber "+18002738255" is a crisis line (988 Suicide & Crisis Lifeline, US): ' +
        'crisis and emergency lines are never called.',
    });
  });

  it.each([
    ['+18002738255', '988 Suicide & Crisis Lifeline', 'US'],
    ['+18002221222', 'Poison Help', 'US'],
    ['+18007997233', 'National Domestic Violence Hotline', 'US'],
    ['+18006564673', 'RAINN National Sexual Assault Hotline', 'US'],
    ['+18664887386', 'The Trevor Project', 'US'],
    ['+18775658860', 'Trans Lifeline', 'US'],
    ['+18006624357', "SAMHSA's National Helpline", 'US'],
    ['+18004224453', 'Childhelp National Child Abuse Hotline', 'US'],
    ['+18334564566', '9-8-8 Suicide Crisis Helpline', 'CA'],
    ['+18006686868', 'Kids Help Phone', 'CA'],
    ['+18552423310', 'Hope for Wellness Help Line', 'CA'],
    ['+18773306366', 'Trans Lifeline', 'CA'],
    ['+44116123', 'Samaritans', 'GB'],
    ['+448001111', 'Childline', 'GB'],
    ['+448082000247', 'National Domestic Abuse Helpline', 'GB'],
    ['+353116123', 'Samaritans Ireland', 'IE'],
    ['+3531800247247', 'Pieta', 'IE'],
    ['+3531800666666', 'Childline (ISPCC)', 'IE'],
    ['+3531800341900', "Women's Aid", 'IE'],
    ['+61131114', 'Lifeline', 'AU'],
    ['+611800551800', 'Kids Helpline', 'AU'],
    ['+611300224636', 'Beyond Blue', 'AU'],
    ['+611800737732', '1800RESPECT', 'AU'],
    ['+611300659467', 'Suicide Call Back Service', 'AU'],
    ['+61131126', 'Poisons Information Centre', 'AU'],
    ['+641737', 'Need to talk? 1737', 'NZ'],
  ])('refuses %s as ForbiddenNumber, naming %s (%s)', (toPhoneNumber, service, territory) => {
    const verdict = checkCallRequest({ toPhoneNumber, objective });
    expect(verdict).toMatchObject({ ok: false, type: 'ForbiddenNumber', field: 'toPhoneNumber' });
    if (verdict.ok) return;
    expect(verdict.message).toContain(`(${service}`);
    expect(verdict.message).toContain(`, ${territory}): crisis and emergency lines are never called.`);
  });

  it.each(crisisLines.map((line) => [line.e164, line.service, line.territory] as const))(
    'refuses every number in the table: %s (%s, %s)',
    (e164, service, territory) => {
      expect(checkPhoneNumber(e164)).toMatchObject({
        ok: false,
        type: 'ForbiddenNumber',
        message: expect.stringContaining(`(${service}, ${territory})`),
      });
    },
  );

  it('calls a poison-control line by that name', () => {
    expect(checkPhoneNumber('+18002221222')).toMatchObject({
      message: expect.stringContaining('is a poison-control line (Poison Help, US)'),
    });
  });

  it('refuses a crisis line typed without the plus as forbidden, not as badly formatted', () => {
    expect(checkPhoneNumber('18002738255')).toMatchObject({
      ok: false,
      type: 'ForbiddenNumber',
      message: expect.stringContaining('988 Suicide & Crisis Lifeline'),
    });
  });

  it.each([
    ['+18002738256', 'US'],
    ['+18002221223', 'US'],
    ['+61131115', 'AU'],
  ])('matches exact digits only: the neighbouring number %s is still accepted', (toPhoneNumber, region) => {
    expect(checkCallRequest({ toPhoneNumber, objective })).toMatchObject({ ok: true, region });
  });
});
