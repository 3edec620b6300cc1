import type { Account } from "../accounts/account.js";
import type { AccountRegistry } from "../accounts/registry.js";
import { FailedPreconditionError } from "../../common/errors.js";

/** The account, provided it manages `namespace`: FAILED_PRECONDITION otherwise. */
export function managedNamespace(registry: AccountRegistry, account: string, namespace: string): Account {
  const a = registry.get(account);
  if (!a.namespaces.includes(namespace)) {
    throw new FailedPreconditionError(
      `namespace "${namespace}" is not managed by account "${account}" (its namespaces: ${a.namespaces.join(", ")})`,
      { reason: "NAMESPACE_NOT_MANAGED", resource: { type: "namespace", name: namespace, owner: `account ${account}` } },
    );
  }
  return a;
}
