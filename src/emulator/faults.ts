/**
 * Fault injection for tests: added latency, a share of requests failed with
 * 500 or 503, requests that never answer, and connections cut, either for
 * every request or for one namespace's. Refusing connections outright (the
 * port closed) is `Emulator.refuseConnections`.
 */
export interface FaultRule {
  /** Only requests in this namespace (or for this namespace object); all when absent. */
  namespace?: string;
  /** Delay before answering, in milliseconds. */
  latencyMs?: number;
  /** Share of matching requests (0..1) answered with `errorCode`. */
  errorRate?: number;
  errorCode?: 500 | 503;
  /** Never answer matching requests. */
  hang?: boolean;
  /** Destroy the connection of matching requests (the client sees a reset). */
  reset?: boolean;
}

export class Faults {
  private rules: FaultRule[] = [];

  /** Adds a rule; returns a function that removes it. */
  add(rule: FaultRule): () => void {
    this.rules.push(rule);
    return () => {
      this.rules = this.rules.filter((r) => r !== rule);
    };
  }

  clear(): void {
    this.rules = [];
  }

  /** The combined effect of every rule matching a request in `namespace`. */
  effectFor(namespace: string | undefined): { latencyMs: number; errorCode?: 500 | 503; hang: boolean; reset: boolean } {
    let latencyMs = 0;
    let errorCode: 500 | 503 | undefined;
    let hang = false;
    let reset = false;
    for (const r of this.rules) {
      if (r.namespace !== undefined && r.namespace !== namespace) continue;
      latencyMs += r.latencyMs ?? 0;
      if (r.errorRate && Math.random() < r.errorRate) errorCode ??= r.errorCode ?? 500;
      hang ||= r.hang ?? false;
      reset ||= r.reset ?? false;
    }
    return { latencyMs, errorCode, hang, reset };
  }
}
