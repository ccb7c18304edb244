import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../src/workflows/campaign-settings';
import type { CampaignInput } from '../src/shared/campaign-types';

// The hardening's rules apply to new starts; a campaign started before them must replay and continue as new
// without failing on a rule its input was never checked against.

const base: CampaignInput = { name: 'x', targets: [{ toPhoneNumber: '+14155550142', objective: 'x' }] };

describe('campaign settings', () => {
  it.each([
    ['a name with a control character', { name: 'spring\u0007' }],
    ['an approval timeout of 60 days', { approval: { timeout: '60d' } }],
    ['a calling window from 25:00 to 99:99', { callingWindow: { start: '25:00', end: '99:99' } }],
    ['a rate window of 2 hours', { timing: { rateWindow: '2h' } }],
    ['a rate margin longer than its window', { timing: { rateWindow: '1s', rateMargin: '2s' } }],
    ['a poll interval of 1 ms', { timing: { pollInterval: 1 } }],
    ['a share of 1,000', { share: 1000 }],
  ] as [string, Partial<CampaignInput>][])(
    'refuses %s at a new start, and lets a running campaign keep it',
    (_what, extra) => {
      const input = { ...base, ...extra } as CampaignInput;
      const refused = (() => {
        try {
          resolveSettings(input);
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(refused).toBeInstanceOf(ApplicationFailure);
      expect((refused as ApplicationFailure).type).toBe('InvalidInput');
      expect(() => resolveSettings(input, { strict: false })).not.toThrow();
    },
  );

  it.each([
    ['no name', { name: '' }],
    ['a calling window of 9 to 5', { callingWindow: { start: '9', end: '5' } }],
    ['a rate window that is no duration', { timing: { rateWindow: 'a minute' } }],
  ] as [string, Partial<CampaignInput>][])('refuses %s in every run, as it always did', (_what, extra) => {
    expect(() => resolveSettings({ ...base, ...extra } as CampaignInput, { strict: false })).toThrow(
      ApplicationFailure,
    );
  });

  describe('the retry ladder', () => {
    const ladder = { on: ['not_achieved', 'timed_out'], delays: ['4h', '1d'], maxAttempts: 3 };
    const refusal = (retry: unknown) => {
      try {
        resolveSettings({ ...base, retry } as CampaignInput);
      } catch (error) {
        return (error as ApplicationFailure).message;
      }
      return undefined;
    };

    it('resolves its delays to ms', () => {
      expect(resolveSettings({ ...base, retry: ladder } as CampaignInput).retry).toEqual({
        on: ['not_achieved', 'timed_out'],
        delaysMs: [4 * 3_600_000, 86_400_000],
        maxAttempts: 3,
      });
    });

    it.each([
      ['no outcomes', { ...ladder, on: [] }, 'retry.on must list one or more of not_achieved, failed, timed_out'],
      ['an outcome it never retries', { ...ladder, on: ['achieved'] }, 'retry.on must list'],
      ['an outcome twice', { ...ladder, on: ['failed', 'failed'] }, 'each once'],
      ['no delays', { ...ladder, delays: [] }, 'retry.delays must list 1–10 durations from 1s to 30d'],
      ['a delay that is no duration', { ...ladder, delays: ['tomorrow'] }, 'retry.delays must list'],
      ['a delay of 90 days', { ...ladder, delays: ['90d'] }, 'retry.delays must list'],
      ['a delay of 10 ms', { ...ladder, delays: ['10ms'] }, 'retry.delays must list'],
      ['no maxAttempts', { on: ['failed'], delays: ['1h'] }, 'retry.maxAttempts must be a whole number from 2 to 10'],
      ['maxAttempts 1', { ...ladder, maxAttempts: 1 }, 'retry.maxAttempts must be a whole number from 2 to 10'],
      ['maxAttempts 50', { ...ladder, maxAttempts: 50 }, 'retry.maxAttempts must be a whole number from 2 to 10'],
      ['a ladder that is no object', 'twice', 'retry.on must list'],
    ])('refuses %s, saying what it takes', (_what, retry, message) => {
      expect(refusal(retry)).toContain(message);
    });

    it('is ignored by a campaign started before ladders existed (its replay must not change)', () => {
      const settings = resolveSettings({ ...base, retry: { on: 'bogus' } } as unknown as CampaignInput, {
        ladder: false,
      });
      expect(settings).not.toHaveProperty('retry');
    });
  });
});
