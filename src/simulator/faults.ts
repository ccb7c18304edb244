export type FaultKind = 'status500' | 'status503' | 'reset' | 'delay' | 'malformedJson' | 'html';

export interface Fault {
  /** Which requests it hits: `POST /calls`, `GET /calls/:id`, or either. Health and recordings are never hit. */
  on: 'create' | 'get' | 'any';
  kind: FaultKind;
  /** How many of the next matching requests get it. */
  count: number;
  /** For `delay`: how long the response is held, in wall-clock ms. */
  delayMs?: number;
  /**
   * For creates: the call is created first, then the fault happens. This is the ambiguous case a client
   * can only resolve with an idempotency key. Ignored for GETs.
   */
  afterCreate?: boolean;
}

export interface Faults {
  add(fault: Fault): void;
  clear(): void;
}

interface Pending {
  readonly fault: Fault;
  remaining: number;
}

/** Faults waiting for their requests, first added first used. */
export class FaultQueue implements Faults {
  #pending: Pending[] = [];

  add(fault: Fault): void {
    if (!Number.isInteger(fault.count) || fault.count < 1) {
      throw new RangeError(`fault count must be a positive integer, got ${fault.count}`);
    }
    if (fault.kind === 'delay' && !(typeof fault.delayMs === 'number' && fault.delayMs >= 0)) {
      throw new RangeError('a delay fault needs delayMs >= 0');
    }
    this.#pending.push({ fault: { ...fault }, remaining: fault.count });
  }

  clear(): void {
    this.#pending = [];
  }

  /** The fault for this request, if any; using it counts it down. */
  take(route: 'create' | 'get'): Fault | undefined {
    const pending = this.#pending.find(({ fault }) => fault.on === route || fault.on === 'any');
    if (pending === undefined) return undefined;
    pending.remaining -= 1;
    if (pending.remaining === 0) this.#pending = this.#pending.filter((other) => other !== pending);
    return pending.fault;
  }
}
