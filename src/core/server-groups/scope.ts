import type { Account } from "../accounts/account.js";
import type { AccountRegistry } from "../accounts/registry.js";
import { FailedPreconditionError } from "../../common/errors.js";
import { quoted } from "../../common/quoted.js";

/** The account, provided it manages `namespace`: FAILED_PRECONDITION otherwise. */
export function managedNamespace(registry: AccountRegistry, account: string, namespace: string): Account {
  const a = registry.get(account);
  if (!a.namespaces.includes(namespace)) {
    throw new FailedPreconditionError(
      `namespace "${namespace}" is not managed by account "${account}" (its namespaces: ${a.namespaces.join(", ")})`,
      {
        reason: "NAMESPACE_NOT_MANAGED",
        resource: { type: "namespace", name: namespace, owner: `account ${account}` },
        metadata: { account, namespace },
      },
    );
  }
  return a;
}

/**
 * Checks a list's namespace filter against the accounts it selects: those the
 * request names, else every account the caller may read (so that nothing is
 * learnt of the others). A namespace none of them manages would silently match
 * nothing, so it is refused as an unmanaged namespace is everywhere else,
 * naming the field and every such value.
 */
export function checkNamespaceFilter(
  selected: { named: readonly Account[] } | { readable: readonly Account[] },
  namespaces: readonly string[],
  field = "namespaces",
): void {
  const accounts = "named" in selected ? selected.named : selected.readable;
  const unmanaged = namespaces
    .map((namespace, i) => ({ namespace, field: `${field}[${i}]` }))
    .filter(({ namespace }) => !accounts.some((a) => a.namespaces.includes(namespace)));
  if (unmanaged.length === 0) return;
  const only = "named" in selected && accounts.length === 1 ? accounts[0]! : undefined;
  const by = only
    ? `account "${only.name}" (its namespaces: ${only.namespaces.join(", ")})`
    : "named" in selected
      ? `accounts ${accounts.map((a) => `"${a.name}"`).join(", ")}`
      : "any account";
  const first = unmanaged[0]!;
  throw new FailedPreconditionError(`${unmanaged.map((u) => `${u.field}: namespace ${quoted(u.namespace)}`).join("; ")}: not managed by ${by}`, {
    reason: "NAMESPACE_NOT_MANAGED",
    resource: { type: "namespace", name: first.namespace, ...(only ? { owner: `account ${only.name}` } : {}) },
    metadata: { account: only?.name, namespace: first.namespace, field: first.field },
  });
}
