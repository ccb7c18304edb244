// Parsers of the campaign commands' options: each turns the text typed into a value, or says what it expects.
// The rules are the campaign's own (durationMs, parseClock), so an option passes here exactly when the campaign
// accepts it.
import { InvalidArgumentError } from 'commander';
import { isTimeZone } from '../domain/targets';
import { type CallingWindow, parseClock } from '../shared/calling-window';
import { type RetryableOutcome, retryableOutcomes } from '../shared/campaign-types';
import { durationMs } from '../shared/timing';

export function integer(min: number, max: number, why?: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max)
      throw new InvalidArgumentError(`a whole number from ${min} to ${max}${why ? `: ${why}` : ''}.`);
    return n;
  };
}

/** `HH:MM-HH:MM`, two different 24-hour times; a start after the end wraps midnight. */
export function callingWindow(value: string): Omit<CallingWindow, 'defaultTimezone'> {
  const [start = '', end = '', ...more] = value.split('-').map((bound) => bound.trim());
  if (more.length || parseClock(start) === undefined || parseClock(end) === undefined || start === end) {
    throw new InvalidArgumentError('two different 24-hour times, e.g. 08:00-21:00 (22:00-06:00 wraps midnight).');
  }
  return { start, end };
}

export function timeZone(value: string): string {
  if (!isTimeZone(value)) throw new InvalidArgumentError('an IANA zone such as America/New_York.');
  return value;
}

/** The durations the campaign accepts (it refuses others once started), by the campaign's own rule. */
export function duration(value: string): string {
  const ms = durationMs(value);
  if (ms === undefined || ms < 1000) {
    throw new InvalidArgumentError('a duration of at least 1s such as 30m, 24h or 2d.');
  }
  return value.trim();
}

/** `not_achieved,failed`: the outcomes a retry ladder calls again after. */
export function retryOutcomes(value: string): RetryableOutcome[] {
  const list = value.split(',').map((o) => o.trim());
  const known = (o: string): o is RetryableOutcome => (retryableOutcomes as readonly string[]).includes(o);
  if (!list.length || !list.every(known) || new Set(list).size !== list.length) {
    throw new InvalidArgumentError(`one or more of ${retryableOutcomes.join(', ')}, separated by commas.`);
  }
  return list as RetryableOutcome[];
}

/** `4h,1d`: the waits of a retry ladder, each from 1s to 30d (the campaign's own bounds). */
export function retryDelays(value: string): string[] {
  const list = value.split(',').map((d) => d.trim());
  const ok = (d: string) => {
    const ms = durationMs(d);
    return ms !== undefined && ms >= 1000 && ms <= 30 * 86_400_000;
  };
  if (list.length < 1 || list.length > 10 || !list.every(ok)) {
    throw new InvalidArgumentError('1–10 durations from 1s to 30d, separated by commas, e.g. 4h,1d.');
  }
  return list;
}

export function names(value: string): string[] {
  const list = value
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (!list.length) throw new InvalidArgumentError('one or more names, separated by commas.');
  return list;
}
