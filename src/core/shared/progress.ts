import { sleep } from "../../common/sleep.js";
import type { KubeCallOptions, KubeClient } from "../../kube/client.js";
import type { Kind } from "../../kube/kinds.js";

/** How long a read waits for a view to catch up with this replica's writes before asking the API server. */
export const maxCatchUpMs = 2_000;

/**
 * What a watch-fed view knows of its watches, one per kind it holds (each
 * listed, connected, at some resourceVersion), and what its readers wait on:
 * woken on every change of those, with the read-your-writes wait built on
 * them. One for every kind of view, so that "ready" and "caught up" mean
 * the same everywhere.
 */
export class ViewProgress<W extends string> {
  private readonly state: Record<W, { synced: boolean; up: boolean; version: bigint }>;
  private readonly waiting = new Set<() => void>();

  constructor(
    private readonly kube: KubeClient,
    private readonly namespace: string,
    private readonly kinds: Readonly<Record<W, Kind>>,
  ) {
    this.state = Object.fromEntries(Object.keys(kinds).map((w) => [w, { synced: false, up: false, version: 0n }])) as Record<W, { synced: boolean; up: boolean; version: bigint }>;
  }

  /** Listed, and every watch connected: reads may be served from memory. */
  get ready(): boolean {
    return Object.values<{ synced: boolean; up: boolean }>(this.state).every((s) => s.synced && s.up);
  }

  /** `which` has listed everything there is, at `version`. */
  synced(which: W, version: string): void {
    this.state[which].synced = true;
    this.advance(which, version);
  }

  /** `which` has seen `version` (a change or a bookmark). Versions are compared as numbers: kube-apiserver's are etcd revisions. */
  advance(which: W, version: string): void {
    if (/^\d+$/.test(version)) {
      const v = BigInt(version);
      if (v > this.state[which].version) this.state[which].version = v;
    }
    this.wake();
  }

  connected(which: W, up: boolean): void {
    this.state[which].up = up;
    this.wake();
  }

  wake(): void {
    for (const w of [...this.waiting]) w();
  }

  /** Resolves on the next wake, or after `ms`, or when `signal` aborts. */
  next(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const abort = new AbortController();
      const done = () => {
        this.waiting.delete(done);
        abort.abort();
        resolve();
      };
      this.waiting.add(done);
      void sleep(ms, signal ? AbortSignal.any([signal, abort.signal]) : abort.signal).then(done);
    });
  }

  /**
   * Whether the view is ready and has seen every write this process made of
   * its kinds in the namespace (read-your-writes), waiting for that within
   * the caller's deadline and at most `maxCatchUpMs`; false means: read from
   * the API server.
   */
  async caughtUp(opts?: KubeCallOptions): Promise<boolean> {
    const deadline = Date.now() + maxCatchUpMs;
    for (;;) {
      if (!this.ready) return false;
      if (this.seenOwnWrites()) return true;
      const left = deadline - Date.now();
      if (left <= 0 || opts?.signal?.aborted) return false;
      await this.next(left, opts?.signal);
    }
  }

  private seenOwnWrites(): boolean {
    return (Object.keys(this.kinds) as W[]).every((w) => this.state[w].version >= (this.kube.writtenVersion(this.kinds[w], this.namespace) ?? 0n));
  }
}
