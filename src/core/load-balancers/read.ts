import type { V1Pod } from "@kubernetes/client-node";
import type { KubeCallOptions } from "../../kube/client.js";
import { list } from "../../kube/kinds.js";
import { podKind } from "../../kube/pods.js";
import { serviceKind } from "../../kube/services.js";
import type { Account } from "../accounts/account.js";
import { readThrough, type Consistency } from "../shared/consistency.js";
import { isOurs, selectors } from "../shared/ownership.js";
import { managedNamespace, type Scope } from "../shared/scope.js";
import type { LiveViews } from "../server-groups/index.js";
import type { ServiceViews } from "./live-view.js";
import { loadBalancerNotFound, readLoadBalancerService } from "./ownership.js";
import type { LoadBalancer, LoadBalancerRef } from "./spec.js";
import { loadBalancerView } from "./view.js";

/**
 * Where reads may be served from: the namespaces' Service views, with the
 * pods each routes to from the server-group views, unless the caller asks
 * for a live read.
 */
export interface ReadFrom {
  services: ServiceViews;
  views: LiveViews;
  consistency?: Consistency;
}

function managedPods(account: Account, namespace: string, opts?: KubeCallOptions): Promise<V1Pod[]> {
  return list(account.kube, podKind, namespace, selectors.managed(), opts);
}

/** The views of a namespace a load balancer read needs: its Services, and kubedriver's pods (and RCs) for what they route to. */
function viewsOf(from: ReadFrom, account: Account, namespace: string) {
  return [from.services.view(account.name, namespace), from.views.view(account.name, namespace)] as const;
}

export function getLoadBalancer(account: Account, ref: LoadBalancerRef, from: ReadFrom, opts?: KubeCallOptions): Promise<LoadBalancer> {
  managedNamespace(account, ref.namespace);
  return readThrough(from.consistency, viewsOf(from, account, ref.namespace), opts, {
    fromViews: ([services, groups]) => {
      const svc = services.get(ref.name);
      if (!svc) throw loadBalancerNotFound(ref);
      return loadBalancerView(ref.account, svc, groups.allPods());
    },
    live: () => readLoadBalancer(account, ref, opts),
  });
}

/** The same, live. */
export async function readLoadBalancer(account: Account, ref: LoadBalancerRef, opts?: KubeCallOptions): Promise<LoadBalancer> {
  const [svc, pods] = await Promise.all([readLoadBalancerService(account, ref, opts), managedPods(account, ref.namespace, opts)]);
  return loadBalancerView(ref.account, svc, pods);
}

/** Every Service of the scopes (kubedriver's only, with `managedOnly`), ordered by account, namespace and name: from the views, else two requests per namespace. */
export async function listLoadBalancers(scopes: readonly Scope[], managedOnly: boolean, from: ReadFrom, opts?: KubeCallOptions): Promise<LoadBalancer[]> {
  const perScope = await Promise.all(
    scopes.map(async ({ account, namespace }) => {
      const [services, pods] = await readThrough(from.consistency, viewsOf(from, account, namespace), opts, {
        fromViews: ([held, groups]) => [held.list(), groups.allPods()] as const,
        live: () => Promise.all([list(account.kube, serviceKind, namespace, undefined, opts), managedPods(account, namespace, opts)]),
      });
      return services.filter((s) => !managedOnly || isOurs(s)).map((s) => loadBalancerView(account.name, s, pods));
    }),
  );
  return perScope.flat().sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}

/** The stable order and page key of a load balancer. */
export function keyOf(lb: LoadBalancer): string {
  return `${lb.account}/${lb.namespace}/${lb.name}`;
}
