/** The result of probing one namespace in one round. */
export interface NamespaceProbe {
  account: string;
  namespace: string;
  reachable: boolean;
  /** Time the probe took, up to the per-probe timeout. */
  latencyMs: number;
  /** Why the namespace is unreachable; absent when reachable. */
  error?: ProbeError;
  checkedAt: Date;
  /** Number of the round this probe belongs to. */
  round: number;
}

export interface ProbeError {
  /** Short and stable: `timeout`, `connection refused`, `403 forbidden`, `404 not found`, `tls error` … */
  reason: string;
  /** For people; names account and namespace, never a credential. */
  detail: string;
}

/** One probe of every monitored namespace. */
export interface ProbeRound {
  /** Counts from 1 since the monitor started. */
  number: number;
  startedAt: Date;
  endedAt: Date;
  /** Ordered by account, then namespace. */
  probes: NamespaceProbe[];
}

/** Which namespaces a caller wants to see; an empty list means all. */
export interface RoundFilter {
  accounts: readonly string[];
  namespaces: readonly string[];
}

/** The round as a caller with `filter` sees it; the same object when nothing is filtered out. */
export function filterRound(round: ProbeRound, filter: RoundFilter): ProbeRound {
  if (filter.accounts.length === 0 && filter.namespaces.length === 0) return round;
  const accounts = new Set(filter.accounts);
  const namespaces = new Set(filter.namespaces);
  const probes = round.probes.filter(
    (p) => (accounts.size === 0 || accounts.has(p.account)) && (namespaces.size === 0 || namespaces.has(p.namespace)),
  );
  return { ...round, probes };
}

/** Accounts that have namespaces and reached none of them in this round. */
export function entirelyUnreachableAccounts(round: ProbeRound): string[] {
  const reached = new Map<string, boolean>();
  for (const p of round.probes) reached.set(p.account, (reached.get(p.account) ?? false) || p.reachable);
  return [...reached].filter(([, any]) => !any).map(([account]) => account);
}
