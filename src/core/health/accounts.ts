import { probeNamespace } from "../../kube/namespace-probe.js";
import type { Account } from "../accounts/account.js";
import type { MonitoredAccount } from "./monitor.js";

/**
 * Each account's namespaces, probed with a GET through the account's own
 * client once `provisioned(account)` says its provisioning is not under way.
 */
export function monitoredAccounts(accounts: readonly Account[], provisioned?: (account: string) => Promise<void>): MonitoredAccount[] {
  return accounts.map((account) => ({
    name: account.name,
    namespaces: account.namespaces,
    probe: (namespace, opts) => probeNamespace(account.kube, namespace, opts),
    ...(provisioned ? { provisioned: () => provisioned(account.name) } : {}),
  }));
}
