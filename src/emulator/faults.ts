/**
 * Fault injection for tests: added latency, a share of requests failed with
 * 500 or 503, requests that never answer, connections cut before or after the
 * request took effect, for every request or for one namespace's or verb's. Refusing connections outright (the
 * port closed) is `Emulator.refuseConnections`.
 */
export interface FaultRule {
  /** Only requests in this namespace (or for this namespace object); all when absent. */
  namespace?: string;
  /** Only these verbs, as the API server counts them: GET, LIST, POST, PUT, PATCH, DELETE. */
  verbs?: string[];
  /** Only requests for these resources (`replicationcontrollers`, `secrets` …); all when absent. */
  resources?: string[];
  /** Only requests for these subresources (`log`, `scale`; "" for the object itself); all when absent. */
  subresources?: string[];
  /** Delay before answering, in milliseconds. */
  latencyMs?: number;
  /** Share of matching requests (0..1) answered with `errorCode`. */
  errorRate?: number;
  errorCode?: 500 | 503;
  /** Never answer matching requests. */
  hang?: boolean;
  /** Destroy the connection of matching requests (the client sees a reset). */
  reset?: boolean;
  /** Apply to this many matching requests, then retire; every matching request when absent. */
  times?: number;
  /** Carry the request out, then cut the connection instead of answering: the client cannot know it worked. */
  loseResponse?: boolean;
}

export interface FaultEffect {
  latencyMs: number;
  errorCode?: 500 | 503;
  hang: boolean;
  reset: boolean;
  loseResponse: boolean;
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

  /** The combined effect of every rule matching a request in `namespace` with `verb` for `resource`. */
  effectFor(namespace: string | undefined, verb: string, resource: string, subresource = ""): FaultEffect {
    const effect: FaultEffect = { latencyMs: 0, hang: false, reset: false, loseResponse: false };
    for (const r of this.rules) {
      if (r.namespace !== undefined && r.namespace !== namespace) continue;
      if (r.verbs !== undefined && !r.verbs.includes(verb)) continue;
      if (r.resources !== undefined && !r.resources.includes(resource)) continue;
      if (r.subresources !== undefined && !r.subresources.includes(subresource)) continue;
      if (r.times !== undefined && r.times-- <= 0) continue;
      effect.latencyMs += r.latencyMs ?? 0;
      if (r.errorRate && Math.random() < r.errorRate) effect.errorCode ??= r.errorCode ?? 500;
      effect.hang ||= r.hang ?? false;
      effect.reset ||= r.reset ?? false;
      effect.loseResponse ||= r.loseResponse ?? false;
    }
    return effect;
  }
}
