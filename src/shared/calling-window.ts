/** Local-time bounds within which calls may be created, e.g. { start: '08:00', end: '21:00' }. */
export interface CallingWindow {
  start: string;
  end: string;
  /**
   * Zone for targets whose zone neither their row nor their number tells (a prefix spanning several zones). Without
   * it such targets are held back, never dialed blind.
   */
  defaultTimezone?: string;
}

export interface WindowStatus {
  open: boolean;
  /** Epoch ms of the next opening (when closed) or closing (when open). */
  changesAt: number;
}

const day = 24 * 3600_000;

export function parseClock(value: string): number | undefined {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  return match ? (Number(match[1]) * 60 + Number(match[2])) * 60_000 : undefined;
}

/** Whether `zone`'s local time at `at` lies in the window, and when that changes. The tz database decides. */
export function windowStatus(zone: string, window: CallingWindow, at: number): WindowStatus {
  const start = parseClock(window.start);
  const end = parseClock(window.end);
  if (start === undefined || end === undefined) throw new RangeError('calling window bounds must be HH:MM');
  const local = msIntoLocalDay(zone, at);
  const open = start <= end ? local >= start && local < end : local >= start || local < end;
  const target = open ? end : start;
  const wait = (target - local + day) % day || day;
  // DST shifts can move the real change by an hour: the status is asked again then, so it self-corrects.
  // The one-minute floor only delays an opening; a closing is never postponed past the window's end.
  return { open, changesAt: at + (open ? wait : Math.max(wait, 60_000)) };
}

function msIntoLocalDay(zone: string, at: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return ((get('hour') * 60 + get('minute')) * 60 + get('second')) * 1000 + (at % 1000);
}
