import type { V1Pod } from "@kubernetes/client-node";
import type { Account } from "../accounts/account.js";
import type { AccountRegistry } from "../accounts/registry.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { listPods } from "../../kube/pods.js";
import { listReplicationControllers } from "../../kube/replication-controllers.js";
import type { LiveViews } from "./live-views.js";
import { autoscalersIn } from "../autoscalers/ownership.js";
import { isServerGroup, labelKeys, selectors } from "./ownership.js";
import type { Consistency } from "./read.js";
import { managedNamespace } from "./scope.js";
import type { ServerGroup } from "./spec.js";
import { serverGroupView } from "./view.js";

export interface ListFilter {
  /** Empty: every account. */
  account: string;
  /** Empty: every namespace of the account(s). */
  namespaces: string[];
  application: string;
  cluster: string;
  /** When listing every account, which ones the caller may see. */
  include?: (account: Account) => boolean;
}

/**
 * Every server group matching the filter, ordered by account, namespace and
 * name (`keyOf`): from each namespace's view when it is ready and caught up
 * with this replica's writes, else three Kubernetes requests per namespace
 * (RCs, pods and autoscalers), whatever the number of groups.
 */
export async function listServerGroups(
  registry: AccountRegistry,
  filter: ListFilter,
  opts?: KubeCallOptions,
  from: { views?: LiveViews; consistency?: Consistency } = {},
): Promise<readonly ServerGroup[]> {
  const scopes: [Account, string][] = filter.account
    ? filter.namespaces.length
      ? filter.namespaces.map((ns) => [managedNamespace(registry, filter.account, ns), ns])
      : registry.get(filter.account).namespaces.map((ns) => [registry.get(filter.account), ns])
    : registry
        .list()
        .filter((a) => filter.include?.(a) ?? true)
        .flatMap((a) => a.namespaces.filter((ns) => !filter.namespaces.length || filter.namespaces.includes(ns)).map((ns): [Account, string] => [a, ns]));
  // Scopes in key order, each scope's groups by name: their concatenation is in key order, with no sort of the whole.
  const ordered = [...new Map(scopes.map(([a, ns]) => [scopeKey(a.name, ns), [a, ns] as const])).entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, scope]) => scope);
  const selector = selectors.serverGroups({ application: filter.application, cluster: filter.cluster });
  const filtered = filter.application || filter.cluster;

  const perScope = await Promise.all(
    ordered.map(async ([account, namespace]) => {
      const view = from.consistency === "strong" ? undefined : from.views?.view(account.name, namespace);
      if (view && (await view.caughtUp(opts))) {
        return filtered ? view.list().filter((g) => matches(g, filter)) : view.list();
      }
      const [rcs, pods, autoscalers] = await Promise.all([
        listReplicationControllers(account.kube, namespace, selector, opts),
        listPods(account.kube, namespace, selector, opts),
        autoscalersIn(account, namespace, opts),
      ]);
      const podsOf = new Map<string, V1Pod[]>();
      for (const p of pods) {
        const group = p.metadata?.labels?.[labelKeys.serverGroup] ?? "";
        const known = podsOf.get(group);
        if (known) known.push(p);
        else podsOf.set(group, [p]);
      }
      return rcs
        .filter(isServerGroup)
        .map((rc) => serverGroupView(account.name, rc, podsOf.get(rc.metadata!.name!) ?? [], autoscalers.get(rc.metadata!.name!)))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
    }),
  );
  return perScope.length === 1 ? perScope[0]! : perScope.flat();
}

/**
 * The stable order and page key of a server group. Account and namespace
 * names hold no '/', so no scope's prefix starts another's: ordering scopes
 * by prefix and each scope by name orders the keys.
 */
export function keyOf(g: ServerGroup): string {
  return scopeKey(g.account, g.namespace) + g.name;
}

function scopeKey(account: string, namespace: string): string {
  return `${account}/${namespace}/`;
}

/** The filter's application and cluster, as the label selector applies them to a live list. */
export function matches(g: ServerGroup, filter: { application?: string; cluster?: string }): boolean {
  return (!filter.application || g.spec.application === filter.application) && (!filter.cluster || g.cluster === filter.cluster);
}
