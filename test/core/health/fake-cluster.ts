import type { MonitoredAccount, ProbeOutcome } from "../../../src/core/health/monitor.js";

interface NamespaceBehaviour {
  latencyMs: number;
  failure?: { reason: string; detail: string };
}

/**
 * Accounts whose namespace GETs are answered from memory after a (fake-timer)
 * latency, with failures injectable per namespace, counting every probe.
 */
export function aFakeCluster(accounts: Record<string, string[]> = { prod: ["web", "batch"] }, latencyMs = 10) {
  const behaviour = new Map<string, NamespaceBehaviour>();
  const key = (account: string, namespace: string) => `${account}/${namespace}`;
  const probes = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  const aborted: string[] = [];

  const monitored: MonitoredAccount[] = Object.entries(accounts).map(([name, namespaces]) => ({
    name,
    namespaces,
    probe: (namespace, { signal }) => {
      const k = key(name, namespace);
      probes.set(k, (probes.get(k) ?? 0) + 1);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const b = behaviour.get(k) ?? { latencyMs };
      return new Promise<ProbeOutcome>((resolve) => {
        let settled = false;
        const timer = setTimeout(() => {
          settled = true;
          inFlight--;
          resolve(b.failure ? { reachable: false, ...b.failure } : { reachable: true });
        }, b.latencyMs);
        signal.addEventListener("abort", () => {
          if (settled) return;
          clearTimeout(timer);
          inFlight--;
          aborted.push(k);
        });
      });
    },
  }));

  return {
    accounts: monitored,
    /** Probes sent to one namespace, or to all when no namespace is named. */
    probeCount(account?: string, namespace?: string): number {
      if (account && namespace) return probes.get(key(account, namespace)) ?? 0;
      return [...probes.values()].reduce((a, b) => a + b, 0);
    },
    get maxInFlight() {
      return maxInFlight;
    },
    aborted,
    fail(account: string, namespace: string, reason = "connection refused") {
      behaviour.set(key(account, namespace), { latencyMs, failure: { reason, detail: `injected: ${reason}` } });
    },
    slow(account: string, namespace: string, ms: number) {
      behaviour.set(key(account, namespace), { latencyMs: ms });
    },
    recover(account: string, namespace: string) {
      behaviour.delete(key(account, namespace));
    },
  };
}

/** `count` namespaces named ns-000, ns-001, … */
export function namespacesNamed(count: number, prefix = "ns"): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);
}
