import type { ClockWindow } from './laws';

/** Calling hours that cannot be combined: they never overlap, or overlap in two separate spans. */
export class CallingWindowError extends Error {
  override name = 'CallingWindowError';

  constructor(
    message: string,
    /** The windows that were combined, in order. */
    readonly windows: readonly ClockWindow[],
  ) {
    super(message);
  }
}
