/** How a reload of the config file (or of a file it names) ended. */
export type ConfigReloadOutcome = "applied" | "unchanged" | "failed";

const counts: Record<ConfigReloadOutcome, number> = { applied: 0, unchanged: 0, failed: 0 };

/**
 * The config-reload metric's one call site. Until the Prometheus registry
 * (src/observability/metrics.ts) exists on this branch, reloads are counted
 * here; wiring it is a `kubedriver_config_reloads_total{outcome}` counter
 * incremented in this function.
 */
export function recordConfigReload(outcome: ConfigReloadOutcome): void {
  counts[outcome]++;
}

/** Reloads so far, by outcome. */
export function configReloadCounts(): Readonly<Record<ConfigReloadOutcome, number>> {
  return { ...counts };
}
