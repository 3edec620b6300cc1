import type { Logger } from "../../observability/logger.js";
import { entirelyUnreachableAccounts, type ProbeRound } from "./round.js";

/**
 * Remembers what the previous round saw, so that a namespace or account going
 * unreachable (and coming back) is logged once per change, not on every tick.
 * A namespace unreachable in the very first round counts as a change; one
 * reachable from the start does not.
 */
export class ReachabilityLog {
  private readonly namespaces = new Map<string, boolean>();
  private unreachableAccounts = new Set<string>();

  constructor(private readonly log: Logger) {}

  /** Logs the changes `round` brings and returns the accounts now entirely unreachable. */
  observe(round: ProbeRound): string[] {
    for (const p of round.probes) {
      const key = `${p.account}\u0000${p.namespace}`;
      const before = this.namespaces.get(key) ?? true;
      this.namespaces.set(key, p.reachable);
      if (before === p.reachable) continue;
      const where = { account: p.account, namespace: p.namespace, round: round.number };
      if (p.reachable) this.log.info("namespace reachable again", where);
      else this.log.warn("namespace unreachable", { ...where, reason: p.error?.reason, detail: p.error?.detail });
    }

    const now = entirelyUnreachableAccounts(round);
    const nowSet = new Set(now);
    for (const account of now) {
      if (!this.unreachableAccounts.has(account)) this.log.warn("account entirely unreachable", { account, round: round.number });
    }
    for (const account of this.unreachableAccounts) {
      if (!nowSet.has(account)) this.log.info("account reachable again", { account, round: round.number });
    }
    this.unreachableAccounts = nowSet;
    return now;
  }
}
