import type { DockerRegistryAccountConfig } from "../../config/types.js";
import type { Account } from "./account.js";

/**
 * What a provisioning run covers: every namespace of the account, or only
 * some namespaces (with all their pull secrets) and some single pull secrets
 * (`namespace` → secret names), for an account that changed in part.
 */
export type ProvisioningScope = "all" | { namespaces: ReadonlySet<string>; pullSecrets: ReadonlyMap<string, ReadonlySet<string>> };

export interface ChangedAccount {
  before: Account;
  after: Account;
  /** What in its cluster must be provisioned again; empty when only, say, its permissions changed. */
  scope: ProvisioningScope;
}

/** What one `AccountRegistry.apply` changed; unchanged accounts kept their very objects. */
export interface AccountChanges {
  added: Account[];
  removed: Account[];
  changed: ChangedAccount[];
  unchanged: number;
}

export function isEmptyChange(c: AccountChanges): boolean {
  return c.added.length === 0 && c.removed.length === 0 && c.changed.length === 0;
}

/** Same connection, namespaces, pull secrets and permissions. */
export function sameAccount(a: Account, b: Account): boolean {
  return (
    a.name === b.name &&
    a.kube === b.kube &&
    a.kubeconfigFile === b.kubeconfigFile &&
    sameList(a.namespaces, b.namespaces) &&
    a.pullSecrets.length === b.pullSecrets.length &&
    a.pullSecrets.every((p, i) => {
      const q = b.pullSecrets[i]!;
      return p.secretName === q.secretName && sameList(p.namespaces, q.namespaces) && sameRegistry(p.registry, q.registry);
    }) &&
    JSON.stringify(a.permissions ?? null) === JSON.stringify(b.permissions ?? null)
  );
}

/**
 * What in the cluster a change calls for: everything when the connection
 * changed (another cluster, user or credentials); otherwise the namespaces
 * added and the pull secrets whose registry (a rotated password) or
 * namespaces changed. Namespaces and secrets no longer in the spec are left
 * in the cluster, as at start-up.
 */
export function scopeOf(before: Account, after: Account): ProvisioningScope {
  if (before.kube !== after.kube) return "all";
  const namespaces = new Set(after.namespaces.filter((ns) => !before.namespaces.includes(ns)));
  const pullSecrets = new Map<string, Set<string>>();
  for (const binding of after.pullSecrets) {
    const old = before.pullSecrets.find((b) => b.secretName === binding.secretName);
    for (const ns of binding.namespaces) {
      if (namespaces.has(ns)) continue;
      if (old && old.namespaces.includes(ns) && sameRegistry(old.registry, binding.registry)) continue;
      if (!pullSecrets.has(ns)) pullSecrets.set(ns, new Set());
      pullSecrets.get(ns)!.add(binding.secretName);
    }
  }
  return { namespaces, pullSecrets };
}

export function isEmptyScope(scope: ProvisioningScope): boolean {
  return scope !== "all" && scope.namespaces.size === 0 && scope.pullSecrets.size === 0;
}

function sameRegistry(a: DockerRegistryAccountConfig, b: DockerRegistryAccountConfig): boolean {
  return a.name === b.name && a.address === b.address && a.username === b.username && a.password === b.password && a.email === b.email;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
