import type { V1Pod } from "@kubernetes/client-node";
import type { KubeCallOptions } from "../../kube/client.js";
import { listPods } from "../../kube/pods.js";
import { listServices } from "../../kube/services.js";
import type { Account } from "../accounts/account.js";
import type { AccountRegistry } from "../accounts/registry.js";
import { selectors } from "../server-groups/ownership.js";
import { managedNamespace } from "../server-groups/scope.js";
import { isManagedService, readLoadBalancerService } from "./ownership.js";
import type { LoadBalancer, LoadBalancerRef } from "./spec.js";
import { loadBalancerView } from "./view.js";

/*
 * Reads go through one function per object kind (Services, kubedriver's
 * pods), so that they can be served by the live view once it exists.
 */
function managedPods(account: Account, namespace: string, opts?: KubeCallOptions): Promise<V1Pod[]> {
  return listPods(account.kube, namespace, selectors.managed(), opts);
}

export async function getLoadBalancer(registry: AccountRegistry, ref: LoadBalancerRef, opts?: KubeCallOptions): Promise<LoadBalancer> {
  return readLoadBalancer(managedNamespace(registry, ref.account, ref.namespace), ref, opts);
}

export async function readLoadBalancer(account: Account, ref: LoadBalancerRef, opts?: KubeCallOptions): Promise<LoadBalancer> {
  const [svc, pods] = await Promise.all([readLoadBalancerService(account, ref, opts), managedPods(account, ref.namespace, opts)]);
  return loadBalancerView(ref.account, svc, pods);
}

export interface LoadBalancerFilter {
  /** Empty: every account. */
  account: string;
  /** Empty: every namespace of the account(s). */
  namespaces: string[];
  managedOnly: boolean;
  /** When listing every account, which ones the caller may see. */
  include?: (account: Account) => boolean;
}

/** Every Service of the scopes, ordered by account, namespace and name: two requests per namespace. */
export async function listLoadBalancers(registry: AccountRegistry, filter: LoadBalancerFilter, opts?: KubeCallOptions): Promise<LoadBalancer[]> {
  const scopes: [Account, string][] = filter.account
    ? (filter.namespaces.length ? filter.namespaces : registry.get(filter.account).namespaces).map((ns) => [managedNamespace(registry, filter.account, ns), ns])
    : registry
        .list()
        .filter((a) => filter.include?.(a) ?? true)
        .flatMap((a) => a.namespaces.filter((ns) => !filter.namespaces.length || filter.namespaces.includes(ns)).map((ns): [Account, string] => [a, ns]));
  const perScope = await Promise.all(
    scopes.map(async ([account, namespace]) => {
      const [services, pods] = await Promise.all([listServices(account.kube, namespace, undefined, opts), managedPods(account, namespace, opts)]);
      return services.filter((s) => !filter.managedOnly || isManagedService(s)).map((s) => loadBalancerView(account.name, s, pods));
    }),
  );
  return perScope.flat().sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}

/** The stable order and page key of a load balancer. */
export function keyOf(lb: LoadBalancer): string {
  return `${lb.account}/${lb.namespace}/${lb.name}`;
}
