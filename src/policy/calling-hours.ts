import { parseClock } from '../shared/calling-window';
import { CallingWindowError } from './calling-window-error';
import { jurisdictionOf, type Jurisdiction } from './jurisdiction';
import { type ClockWindow, type ContactPolicy, dayMs, defaultContactPolicy, type HoursRule } from './laws';
import { zoneOfNumber, type ZoneOfNumber } from './zone-of-number';

export interface CallingHours extends HoursRule {
  /** The zone the hours are read in. `unknown`: the call is held back, whatever the hours. */
  zone: ZoneOfNumber;
  jurisdiction: Jurisdiction;
}

/**
 * The local hours within which `e164` may be called: every row of its jurisdictions (state and country) at once,
 * so a state's stricter hours narrow the federal ones; the policy's default hours where no row applies. `source`
 * names the rows, e.g. `Fla. Stat. 501.059(8)(a); 47 CFR 64.1200(c)(1)`.
 */
export function callingHoursFor(e164: string, policy: ContactPolicy = defaultContactPolicy): CallingHours {
  const jurisdiction = jurisdictionOf(e164);
  const rows = jurisdiction.codes.flatMap((code) => policy.jurisdictions[code]?.hours ?? []);
  const [first, ...rest] = rows;
  const hours = first
    ? rest.reduce<HoursRule>((narrowed, row) => ({ ...intersect(narrowed, row), source: narrowed.source }), first)
    : policy.defaultHours;
  const source = first ? rows.map((row) => row.source).join('; ') : hours.source;
  return { start: hours.start, end: hours.end, source, zone: zoneOfNumber(e164), jurisdiction };
}

/**
 * `hours` narrowed by a campaign's own window: a campaign may call within fewer hours than the law allows, never
 * more. Throws a `CallingWindowError` when the two never overlap (no call could ever be placed) or overlap in two
 * separate spans (which one window cannot express).
 */
export function narrowWindow<T extends ClockWindow & { source?: string }>(hours: T, campaignWindow?: ClockWindow): T {
  if (!campaignWindow) return hours;
  const { start, end } = intersect(hours, campaignWindow, 'the campaign window');
  const narrowed = { ...hours, start, end };
  if (hours.source !== undefined) {
    narrowed.source = `${hours.source}; narrowed by the campaign window ${describe(campaignWindow)}`;
  }
  return narrowed;
}

type Span = readonly [from: number, to: number];

/** The overlap of two windows on the 24-hour clock, wrapping windows included. */
function intersect(a: ClockWindow & { source?: string }, b: ClockWindow, bIs = 'the window'): ClockWindow {
  const spans = spansOf(a).flatMap(([aFrom, aTo]) =>
    spansOf(b).flatMap(([bFrom, bTo]): Span[] => {
      const from = Math.max(aFrom, bFrom);
      const to = Math.min(aTo, bTo);
      return from < to ? [[from, to]] : [];
    }),
  );
  const merged = joinAcrossMidnight(spans.sort((x, y) => x[0] - y[0]));
  const of = `${bIs} ${describe(b)} and the calling hours ${describe(a)}${a.source ? ` (${a.source})` : ''}`;
  if (merged.length === 0) {
    throw new CallingWindowError(`${capitalised(of)} do not overlap: no call could ever be placed.`, [a, b]);
  }
  const [only, ...others] = merged;
  if (!only || others.length > 0) {
    const listed = merged.map(([from, to]) => `${clock(from)}–${clock(to)}`).join(' and ');
    throw new CallingWindowError(
      `${capitalised(of)} overlap in separate spans (${listed}): choose a window within the calling hours.`,
      [a, b],
    );
  }
  return { start: clock(only[0]), end: clock(only[1]) };
}

function spansOf(window: ClockWindow): Span[] {
  const start = parseClock(window.start);
  const end = parseClock(window.end);
  if (start === undefined || end === undefined) {
    throw new CallingWindowError(`Calling window bounds must be HH:MM, not ${describe(window)}.`, [window]);
  }
  if (start === end) {
    throw new CallingWindowError(`The calling window ${describe(window)} is empty: start and end are equal.`, [window]);
  }
  return start < end
    ? [[start, end]]
    : [
        [start, dayMs],
        [0, end],
      ];
}

/** A span ending at midnight and one starting at midnight are one window that wraps. */
function joinAcrossMidnight(spans: Span[]): Span[] {
  const first = spans[0];
  const last = spans[spans.length - 1];
  if (spans.length < 2 || !first || !last || first[0] !== 0 || last[1] !== dayMs) return spans;
  return [[last[0], first[1]], ...spans.slice(1, -1)];
}

function clock(msOfDay: number): string {
  const minutes = Math.round(msOfDay / 60_000) % (24 * 60);
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

function describe({ start, end }: ClockWindow): string {
  return `${start}–${end}`;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
