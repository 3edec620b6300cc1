import type { Logger } from "../../observability/logger.js";

export interface FailureThrottleOptions {
  /** The delay after a peer's first recent failure; each further one doubles it. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Each quiet period this long since a peer's last failure lowers its delay one step. */
  decayMs: number;
  /**
   * A peer's failures are answered one after another, each its delay after the
   * previous one, so guessing in parallel is no faster; no answer waits longer
   * than this, so a queue of guesses cannot hold calls open without end.
   */
  maxWaitMs: number;
  /** Peers remembered at once; past it, the one whose last failure is oldest is forgotten. */
  maxPeers: number;
  /** One summary log line per interval in which any failure happened. */
  summaryIntervalMs: number;
  /** Peers named in the summary, most failures first. */
  summaryTopPeers: number;
  log: Logger;
  /** Milliseconds since the epoch; tests pass a fake clock. */
  now: () => number;
}

export const defaultFailureThrottle: Omit<FailureThrottleOptions, "log" | "now"> = {
  baseDelayMs: 5,
  maxDelayMs: 1_000,
  decayMs: 5_000,
  maxWaitMs: 5_000,
  maxPeers: 10_000,
  summaryIntervalMs: 10_000,
  summaryTopPeers: 5,
};

interface PeerState {
  /** Steps of doubling earned by recent failures (0: no delay owed). */
  level: number;
  lastFailureAt: number;
  /** When the latest failure queued for this peer is answered. */
  answerAt: number;
  /** Failures since the last summary. */
  sinceSummary: number;
}

/**
 * Slows down whoever keeps presenting credentials that do not check out: each
 * failure from a peer is answered after a delay that doubles with the peer's
 * recent failures and decays when the peer stays quiet. Only failures are
 * counted, so a valid credential is never delayed; memory is bounded by
 * `maxPeers`, and what happened is logged as one summary line per interval,
 * counts and peers only.
 */
export class FailureThrottle {
  private readonly options: FailureThrottleOptions;
  /** Ordered by last failure, oldest first: re-inserted on every failure. */
  private readonly peers = new Map<string, PeerState>();
  private readonly maxLevel: number;
  private failures = 0;
  private forgotten = 0;
  private summary?: NodeJS.Timeout;

  constructor(options: Partial<FailureThrottleOptions> & Pick<FailureThrottleOptions, "log">) {
    this.options = { ...defaultFailureThrottle, now: Date.now, ...options };
    const { baseDelayMs, maxDelayMs } = this.options;
    this.maxLevel = 1 + Math.ceil(Math.log2(Math.max(maxDelayMs / Math.max(baseDelayMs, 1), 1)));
  }

  /** Records a failure from `peer` and returns how many milliseconds to wait before answering it. */
  failure(peer: string): number {
    const { baseDelayMs, maxDelayMs, decayMs, maxWaitMs } = this.options;
    const now = this.options.now();
    const state = this.peers.get(peer) ?? this.remember();
    this.peers.delete(peer);
    const decayed = Math.floor((now - state.lastFailureAt) / decayMs);
    state.level = Math.min(Math.max(state.level - decayed, 0) + 1, this.maxLevel);
    state.lastFailureAt = now;
    const delay = Math.min(baseDelayMs * 2 ** (state.level - 1), maxDelayMs);
    state.answerAt = Math.min(Math.max(state.answerAt, now) + delay, now + maxWaitMs);
    state.sinceSummary++;
    this.peers.set(peer, state);
    this.failures++;
    this.summary ??= setTimeout(() => this.summarize(), this.options.summaryIntervalMs).unref();
    return state.answerAt - now;
  }

  /** Drops the pending summary (its counts are not logged). */
  close(): void {
    clearTimeout(this.summary);
    this.summary = undefined;
  }

  private remember(): PeerState {
    if (this.peers.size >= this.options.maxPeers) {
      const oldest = this.peers.keys().next().value!;
      this.peers.delete(oldest);
      this.forgotten++;
    }
    return { level: 0, lastFailureAt: this.options.now(), answerAt: 0, sinceSummary: 0 };
  }

  private summarize(): void {
    this.summary = undefined;
    const now = this.options.now();
    const counts: [string, number][] = [];
    for (const [peer, state] of this.peers) {
      if (state.sinceSummary > 0) counts.push([peer, state.sinceSummary]);
      state.sinceSummary = 0;
      // A peer whose delay has decayed to nothing and owes no answer need not be remembered.
      if (state.answerAt <= now && now - state.lastFailureAt >= state.level * this.options.decayMs) this.peers.delete(peer);
    }
    counts.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    this.options.log.warn("authentication failures", {
      failures: this.failures,
      peers: counts.length,
      ...(this.forgotten > 0 ? { forgottenPeers: this.forgotten } : {}),
      top: counts.slice(0, this.options.summaryTopPeers).map(([peer, failures]) => ({ peer, failures })),
      intervalMs: this.options.summaryIntervalMs,
    });
    this.failures = 0;
    this.forgotten = 0;
  }
}
