/** What `Limiter.acquire` gives: a slot to release exactly once, or why there is none. */
export type Acquired = { release: () => void } | { refused: "full" } | { refused: "aborted"; reason: unknown };

/**
 * A bound on work in flight with a first-come, first-served queue behind it.
 * A waiter leaves the queue when its signal aborts (its deadline passed or its
 * caller went away), so the queue never holds work nobody waits for; past
 * `maxQueued` waiters, `acquire` refuses at once rather than absorb the load.
 */
export class Limiter {
  private running = 0;
  /** Insertion-ordered, so the first entry is the oldest waiter; removal of an aborted one is O(1). */
  private readonly waiting = new Set<() => void>();

  constructor(
    readonly maxInFlight: number,
    readonly maxQueued = Number.POSITIVE_INFINITY,
  ) {
    if (!(maxInFlight >= 1)) throw new RangeError(`maxInFlight must be at least 1, got ${maxInFlight}`);
  }

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.size;
  }

  acquire(signal?: AbortSignal): Promise<Acquired> {
    if (signal?.aborted) return Promise.resolve({ refused: "aborted", reason: signal.reason });
    if (this.running < this.maxInFlight && this.waiting.size === 0) return Promise.resolve(this.slot());
    if (this.waiting.size >= this.maxQueued) return Promise.resolve({ refused: "full" });
    return new Promise((resolve) => {
      const onAbort = () => {
        this.waiting.delete(admit);
        resolve({ refused: "aborted", reason: signal?.reason });
      };
      const admit = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve(this.slot());
      };
      this.waiting.add(admit);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private slot(): { release: () => void } {
    this.running++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.running--;
        const [next] = this.waiting;
        if (next && this.running < this.maxInFlight) {
          this.waiting.delete(next);
          next();
        }
      },
    };
  }
}
