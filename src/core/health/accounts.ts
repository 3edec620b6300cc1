import { probeNamespace } from "../../kube/namespace-probe.js";
import type { Account } from "../accounts/account.js";
import type { MonitoredAccount } from "./monitor.js";

/** Each account's namespaces, probed with a GET through the account's own client. */
export function monitoredAccounts(accounts: readonly Account[]): MonitoredAccount[] {
  return accounts.map((account) => ({
    name: account.name,
    namespaces: account.namespaces,
    probe: (namespace, opts) => probeNamespace(account.kube, namespace, opts),
  }));
}
