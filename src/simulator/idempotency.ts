/** How long a key is remembered, in sim-clock time (not scaled: clients retry on their own schedule). */
const keyLifetimeMs = 24 * 60 * 60 * 1000;

interface Remembered {
  readonly fingerprint: string;
  readonly callId: string;
  readonly expiresAt: number;
}

/**
 * `honour`: a key that created a call gets that call back for 24 h (409 with another body).
 * `ignore`: the header is ignored, as by an API without idempotency, so every create that passes the checks
 * creates a call: a client's retry dials the number again.
 */
export type IdempotencyMode = 'honour' | 'ignore';

export const idempotencyModes: readonly IdempotencyMode[] = ['honour', 'ignore'];

export type KeyLookup = { kind: 'new' } | { kind: 'replay'; callId: string } | { kind: 'conflict' };

/**
 * Idempotency keys of requests that created a call. A refused request's key is not remembered,
 * so its retry can still create the call.
 */
export class IdempotencyKeys {
  readonly #keys = new Map<string, Remembered>();

  lookup(key: string, fingerprint: string, now: number): KeyLookup {
    const remembered = this.#keys.get(key);
    if (remembered === undefined || remembered.expiresAt <= now) return { kind: 'new' };
    if (remembered.fingerprint !== fingerprint) return { kind: 'conflict' };
    return { kind: 'replay', callId: remembered.callId };
  }

  remember(key: string, fingerprint: string, callId: string, now: number): void {
    this.#keys.set(key, { fingerprint, callId, expiresAt: now + keyLifetimeMs });
  }

  clear(): void {
    this.#keys.clear();
  }
}
