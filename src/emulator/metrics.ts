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
  private readonly records: RequestRecord[] = [];

  record(r: RequestRecord): void {
    this.records.push(r);
  }

  /** Requests matching every given field. */
  count(filter: Partial<RequestRecord> = {}): number {
    return this.records.filter((r) => Object.entries(filter).every(([k, v]) => r[k as keyof RequestRecord] === v)).length;
  }

  reset(): void {
    this.records.length = 0;
  }

  prometheus(): string {
    const counts = new Map<string, number>();
    for (const r of this.records) {
      const labels = `code="${r.code}",component="apiserver",dry_run="",group="",resource="${r.resource}",scope="${r.scope}",subresource="${r.subresource}",verb="${r.verb}",version="v1"`;
      counts.set(labels, (counts.get(labels) ?? 0) + 1);
    }
    const lines = ["# HELP apiserver_request_total Counter of apiserver requests.", "# TYPE apiserver_request_total counter"];
    for (const [labels, n] of counts) lines.push(`apiserver_request_total{${labels}} ${n}`);
    return lines.join("\n") + "\n";
  }
}
