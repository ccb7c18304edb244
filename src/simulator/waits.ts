interface Gate {
  readonly opened: Promise<void>;
  readonly open: () => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Wall-clock waits (delays, slow creates, held creates). They are tracked so that `close()` can end
 * them all: a timer outliving the server would keep the test runner's process alive.
 */
export class Waits {
  readonly #sleeping = new Map<NodeJS.Timeout, () => void>();
  #gate: Gate | undefined;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleeping.delete(timer);
        resolve();
      }, ms);
      this.#sleeping.set(timer, resolve);
    });
  }

  /** Creates wait until `release()` or until `ms` from now, whichever comes first. Holding again restarts the timer. */
  hold(ms: number): void {
    const gate = this.#gate ?? this.#newGate();
    clearTimeout(gate.timer);
    gate.timer = setTimeout(() => this.release(), ms);
  }

  release(): void {
    const gate = this.#gate;
    if (gate === undefined) return;
    this.#gate = undefined;
    clearTimeout(gate.timer);
    gate.open();
  }

  /** Resolves at once unless creates are held. */
  whileHeld(): Promise<void> {
    return this.#gate?.opened ?? Promise.resolve();
  }

  /** Ends every wait now. */
  cancelAll(): void {
    for (const [timer, wake] of this.#sleeping) {
      clearTimeout(timer);
      wake();
    }
    this.#sleeping.clear();
    this.release();
  }

  #newGate(): Gate {
    let open = (): void => {};
    const opened = new Promise<void>((resolve) => {
      open = resolve;
    });
    this.#gate = { opened, open, timer: undefined };
    return this.#gate;
  }
}
