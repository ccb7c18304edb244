import { describe, expect, it } from 'vitest';
import { checkPhoneNumber } from '../src/guardrails';

const nanp = 'in the US and Canada (NANP)';

describe('the territory a refusal names', () => {
  it.each([
    ['+1811', `an N11 service code ${nanp}, for utility locating`],
    ['+1211', `an N11 service code ${nanp}, for community information and referral`],
    ['+1311', `an N11 service code ${nanp}`],
    ['+1411', `an N11 service code ${nanp}, for directory assistance`],
    ['+1511', `an N11 service code ${nanp}`],
    ['+1611', `an N11 service code ${nanp}`],
    ['+1711', `an N11 service code ${nanp}`],
    ['+1911', `an emergency number ${nanp}, for police, fire and ambulance`],
    ['+1988', `an emergency or crisis line ${nanp}`],
    ['+44999', 'an emergency number in GB'],
    ['+44112', 'an emergency number in GB'],
    ['+61000', 'an emergency number in AU'],
    ['+353112', 'an emergency number in IE'],
    ['+353999', 'an emergency number in IE'],
  ])('says %s is %s', (value, reason) => {
    expect(checkPhoneNumber(value)).toMatchObject({
      ok: false,
      type: 'ForbiddenNumber',
      message: expect.stringContaining(reason),
    });
  });

  it.each(['+1211', '+1311', '+1511', '+1811', '+1810', '+1819'])(
    'never names a territory outside +1 for %s, whose digits merely start like FO or BB short codes',
    (value) => {
      const verdict = checkPhoneNumber(value);
      expect(verdict).toMatchObject({ ok: false, type: 'ForbiddenNumber' });
      if (verdict.ok) return;
      expect(verdict.message).not.toMatch(/ in (FO|BB)\b/);
    },
  );

  it('still reads an emergency number typed with a stray plus as that emergency number', () => {
    for (const value of ['+112', '+911', '+999']) {
      expect(checkPhoneNumber(value)).toMatchObject({
        ok: false,
        type: 'ForbiddenNumber',
        message: expect.stringContaining('an emergency number in'),
      });
    }
  });

  it.each(['1811', '811', '211', '911'])('names the NANP for the N11 code %s typed without a plus', (value) => {
    expect(checkPhoneNumber(value)).toMatchObject({ ok: false, message: expect.stringContaining(nanp) });
  });

  it('names a territory where digits dialled alone are an emergency number before one where they are a helpline', () => {
    expect(checkPhoneNumber('110')).toMatchObject({ message: expect.stringContaining('is an emergency number in') });
  });
});
