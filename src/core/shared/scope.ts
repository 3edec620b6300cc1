import type { Account } from "../accounts/account.js";
import { FailedPreconditionError } from "../../common/errors.js";
import { quoted } from "../../common/quoted.js";

/**
 * The account (resolved once per call, by the handler that checked the
 * caller's permission on it), provided it manages `namespace`:
 * FAILED_PRECONDITION otherwise.
 */
export function managedNamespace(account: Account, namespace: string): Account {
  if (!account.namespaces.includes(namespace)) {
    throw new FailedPreconditionError(
      `namespace "${namespace}" is not managed by account "${account.name}" (its namespaces: ${account.namespaces.join(", ")})`,
      {
        reason: "NAMESPACE_NOT_MANAGED",
        resource: { type: "namespace", name: namespace, owner: `account ${account.name}` },
        metadata: { account: account.name, namespace },
      },
    );
  }
  return account;
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

/** One account namespace a call covers. */
export interface Scope {
  account: Account;
  namespace: string;
}

/**
 * The account namespaces a call spanning namespaces covers: of the accounts
 * it names (each namespace of the filter checked as `checkNamespaceFilter`
 * does), else of every account the caller may read; the filter's namespaces
 * only, when it has any. Ordered by account, then namespace, as lists are.
 */
export function scopesOf(selected: { named: readonly Account[] } | { readable: readonly Account[] }, namespaces: readonly string[], field = "namespaces"): Scope[] {
  checkNamespaceFilter(selected, namespaces, field);
  const accounts = "named" in selected ? selected.named : selected.readable;
  const scopes = accounts.flatMap((account) =>
    account.namespaces.filter((ns) => namespaces.length === 0 || namespaces.includes(ns)).map((namespace) => ({ account, namespace })),
  );
  const keyed = new Map(scopes.map((s) => [`${s.account.name}/${s.namespace}/`, s]));
  return [...keyed.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, s]) => s);
}
