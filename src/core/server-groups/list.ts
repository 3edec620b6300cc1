import type { V1Pod } from "@kubernetes/client-node";
import type { KubeCallOptions } from "../../kube/client.js";
import { list } from "../../kube/kinds.js";
import { podKind } from "../../kube/pods.js";
import { replicationControllerKind } from "../../kube/replication-controllers.js";
import type { Account } from "../accounts/account.js";
import { readThrough } from "../shared/consistency.js";
import { autoscalersIn } from "../shared/hpa.js";
import { selectors, serverGroupOf } from "../shared/ownership.js";
import type { Scope } from "../shared/scope.js";
import { isServerGroup } from "./ownership.js";
import type { ReadFrom } from "./read.js";
import type { ServerGroup } from "./spec.js";
import { serverGroupView } from "./view.js";

export interface ListFilter {
  application: string;
  cluster: string;
}

/**
 * Every server group of the scopes (in key order, see `scopesOf`) matching
 * the filter, ordered by account, namespace and name (`keyOf`): from each
 * namespace's view when it is ready and caught up with this replica's
 * writes, else three Kubernetes requests per namespace (RCs, pods and
 * autoscalers), whatever the number of groups.
 */
export async function listServerGroups(scopes: readonly Scope[], filter: ListFilter, from: ReadFrom, opts?: KubeCallOptions): Promise<readonly ServerGroup[]> {
  const filtered = filter.application || filter.cluster;
  const perScope = await Promise.all(
    scopes.map(({ account, namespace }) =>
      readThrough(from.consistency, [from.views.view(account.name, namespace)], opts, {
        fromViews: ([view]) => (filtered ? view.list().filter((g) => matches(g, filter)) : view.list()),
        live: () => listLive(account, namespace, filter, opts),
      }),
    ),
  );
  // Scopes in key order, each scope's groups by name: their concatenation is in key order, with no sort of the whole.
  return perScope.length === 1 ? perScope[0]! : perScope.flat();
}

async function listLive(account: Account, namespace: string, filter: ListFilter, opts?: KubeCallOptions): Promise<ServerGroup[]> {
  const selector = selectors.serverGroups(filter);
  const [rcs, pods, autoscalers] = await Promise.all([
    list(account.kube, replicationControllerKind, namespace, selector, opts),
    list(account.kube, podKind, namespace, selector, opts),
    autoscalersIn(account, namespace, opts),
  ]);
  const podsOf = new Map<string, V1Pod[]>();
  for (const p of pods) {
    const group = serverGroupOf(p);
    const known = podsOf.get(group);
    if (known) known.push(p);
    else podsOf.set(group, [p]);
  }
  return rcs
    .filter(isServerGroup)
    .map((rc) => serverGroupView(account.name, rc, podsOf.get(rc.metadata!.name!) ?? [], autoscalers.get(rc.metadata!.name!)))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * The stable order and page key of a server group. Account and namespace
 * names hold no '/', so no scope's prefix starts another's: ordering scopes
 * by prefix and each scope by name orders the keys.
 */
export function keyOf(g: ServerGroup): string {
  return `${g.account}/${g.namespace}/${g.name}`;
}

/** The filter's application and cluster, as the label selector applies them to a live list. */
export function matches(g: ServerGroup, filter: { application?: string; cluster?: string }): boolean {
  return (!filter.application || g.spec.application === filter.application) && (!filter.cluster || g.cluster === filter.cluster);
}
