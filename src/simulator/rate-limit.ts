/** A sliding window over accepted creates, shared by all API keys. */
export class SlidingWindow {
  #accepted: number[] = [];

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** How long until one more create fits, or `undefined` if it fits now. */
  waitMs(now: number): number | undefined {
    this.#accepted = this.#accepted.filter((at) => at > now - this.windowMs);
    const oldest = this.#accepted[0];
    if (this.#accepted.length < this.limit || oldest === undefined) return undefined;
    return oldest + this.windowMs - now;
  }

  record(now: number): void {
    this.#accepted.push(now);
  }

  clear(): void {
    this.#accepted = [];
  }
}
