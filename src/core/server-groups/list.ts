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
 * name: from each namespace's view when it is ready and caught up with this
 * replica's writes, else three Kubernetes requests per namespace (RCs, pods and
 * autoscalers), whatever the number of groups.
 */
export async function listServerGroups(
  registry: AccountRegistry,
  filter: ListFilter,
  opts?: KubeCallOptions,
  from: { views?: LiveViews; consistency?: Consistency } = {},
): Promise<ServerGroup[]> {
  const scopes: [Account, string][] = filter.account
    ? filter.namespaces.length
      ? filter.namespaces.map((ns) => [managedNamespace(registry, filter.account, ns), ns])
      : registry.get(filter.account).namespaces.map((ns) => [registry.get(filter.account), ns])
    : registry
        .list()
        .filter((a) => filter.include?.(a) ?? true)
        .flatMap((a) => a.namespaces.filter((ns) => !filter.namespaces.length || filter.namespaces.includes(ns)).map((ns): [Account, string] => [a, ns]));
  const selector = selectors.serverGroups({ application: filter.application, cluster: filter.cluster });

  const perScope = await Promise.all(
    scopes.map(async ([account, namespace]) => {
      const view = from.consistency === "strong" ? undefined : from.views?.view(account.name, namespace);
      if (view && (await view.caughtUp(opts))) {
        return view.list().filter((g) => matches(g, filter));
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
        .map((rc) => serverGroupView(account.name, rc, podsOf.get(rc.metadata!.name!) ?? [], autoscalers.get(rc.metadata!.name!)));
    }),
  );
  return perScope.flat().sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}

/** The stable order and page key of a server group. */
export function keyOf(g: ServerGroup): string {
  return `${g.account}/${g.namespace}/${g.name}`;
}

/** The filter's application and cluster, as the label selector applies them to a live list. */
export function matches(g: ServerGroup, filter: { application?: string; cluster?: string }): boolean {
  return (!filter.application || g.spec.application === filter.application) && (!filter.cluster || g.cluster === filter.cluster);
}
