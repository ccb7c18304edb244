import { randomBytes } from 'node:crypto';
import type { Scenario } from './scenarios';
import type { CreateCallInput } from './validation';

export interface CallRecord {
  readonly callId: string;
  readonly scenario: Scenario;
  readonly input: CreateCallInput;
  /** ms epoch, sim clock */
  readonly createdAt: number;
  readonly idempotencyKey: string | undefined;
  /** Every GET of this call, including those answered with an injected error. */
  reads: number;
  /** GETs that moved the call along in `polls` mode. */
  steps: number;
}

export class CallStore {
  readonly #calls = new Map<string, CallRecord>();

  /** `idOf` turns a random part into the call id, e.g. `cl_<random>`. */
  create(
    input: CreateCallInput,
    scenario: Scenario,
    createdAt: number,
    idempotencyKey: string | undefined,
    idOf: (random: string) => string,
  ): CallRecord {
    const call: CallRecord = {
      callId: idOf(randomBytes(8).toString('hex')),
      scenario,
      input,
      createdAt,
      idempotencyKey,
      reads: 0,
      steps: 0,
    };
    this.#calls.set(call.callId, call);
    return call;
  }

  get(callId: string): CallRecord | undefined {
    return this.#calls.get(callId);
  }

  all(): CallRecord[] {
    return [...this.#calls.values()];
  }

  clear(): void {
    this.#calls.clear();
  }
}
