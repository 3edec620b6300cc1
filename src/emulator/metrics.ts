/** One served request, as the emulator recorded it. */
export interface RequestRecord {
  verb: string;
  resource: string;
  subresource: string;
  scope: "resource" | "namespace" | "cluster" | "";
  namespace?: string;
  name?: string;
  code: number;
}

/**
 * Counts requests like kube-apiserver's `apiserver_request_total`, with the
 * same labels, so a test can count Kubernetes calls the same way on the
 * emulator and on a real API server (`GET /metrics`).
 */
export class RequestLog {
  /** The newest requests, for `count`; bounded so that a long-running emulator does not grow. */
  private records: RequestRecord[] = [];
  /** Totals since start, by metric labels: counters never go down, like the API server's. */
  private readonly totals = new Map<string, number>();

  /** Requests being served: answered, or their connection gone, ends them. */
  private readonly open = new Set<RequestRecord>();

  constructor(private readonly keep = 100_000) {}

  /** A request began; `done` when its response is over (sent in full, or its client went away). */
  opened(r: RequestRecord): () => void {
    this.open.add(r);
    return () => this.open.delete(r);
  }

  /** Requests matching every given field still being served: a follow or watch the client forgot stays here. */
  inFlight(filter: Partial<RequestRecord> = {}): number {
    return [...this.open].filter((r) => Object.entries(filter).every(([k, v]) => r[k as keyof RequestRecord] === v)).length;
  }

  record(r: RequestRecord): void {
    this.records.push(r);
    if (this.records.length > this.keep * 2) this.records = this.records.slice(-this.keep);
    const labels = `code="${r.code}",component="apiserver",dry_run="",group="",resource="${r.resource}",scope="${r.scope}",subresource="${r.subresource}",verb="${r.verb}",version="v1"`;
    this.totals.set(labels, (this.totals.get(labels) ?? 0) + 1);
  }

  /** Requests matching every given field, among the newest `keep`. */
  count(filter: Partial<RequestRecord> = {}): number {
    return this.records.slice(-this.keep).filter((r) => Object.entries(filter).every(([k, v]) => r[k as keyof RequestRecord] === v)).length;
  }

  prometheus(): string {
    const lines = ["# HELP apiserver_request_total Counter of apiserver requests.", "# TYPE apiserver_request_total counter"];
    for (const [labels, n] of this.totals) lines.push(`apiserver_request_total{${labels}} ${n}`);
    return lines.join("\n") + "\n";
  }
}
