import type { V1Pod } from "@kubernetes/client-node";
import type { KubeCallOptions } from "../../kube/client.js";
import { listPods } from "../../kube/pods.js";
import { listServices } from "../../kube/services.js";
import type { Account } from "../accounts/account.js";
import type { AccountRegistry } from "../accounts/registry.js";
import { selectors } from "../server-groups/ownership.js";
import { managedNamespace } from "../server-groups/scope.js";
import type { LiveViews } from "../server-groups/live-views.js";
import type { Consistency } from "../server-groups/read.js";
import type { ServiceView, ServiceViews } from "./live-view.js";
import { isManagedService, loadBalancerNotFound, readLoadBalancerService } from "./ownership.js";
import type { LoadBalancer, LoadBalancerRef } from "./spec.js";
import { loadBalancerView } from "./view.js";

/** Where reads may be served from: the namespaces' views, unless the caller asks for a live read. */
export interface ReadFrom {
  services?: ServiceViews;
  views?: LiveViews;
  consistency?: Consistency;
}

function managedPods(account: Account, namespace: string, opts?: KubeCallOptions): Promise<V1Pod[]> {
  return listPods(account.kube, namespace, selectors.managed(), opts);
}

/**
 * The namespace's Services and kubedriver's pods from memory, when both views
 * are ready and have seen this replica's writes (of Services, and of pods and
 * RCs); undefined means: read from the API server.
 */
async function fromViews(account: Account, namespace: string, from: ReadFrom, opts?: KubeCallOptions): Promise<{ services: ServiceView; pods: V1Pod[] } | undefined> {
  if (from.consistency === "strong") return undefined;
  const services = from.services?.view(account.name, namespace);
  const groups = from.views?.view(account.name, namespace);
  if (!services || !groups) return undefined;
  const [servicesCaughtUp, groupsCaughtUp] = await Promise.all([services.caughtUp(opts), groups.caughtUp(opts)]);
  if (!servicesCaughtUp || !groupsCaughtUp) return undefined;
  return { services, pods: groups.allPods() };
}

export async function getLoadBalancer(registry: AccountRegistry, ref: LoadBalancerRef, opts?: KubeCallOptions, from: ReadFrom = {}): Promise<LoadBalancer> {
  const account = managedNamespace(registry, ref.account, ref.namespace);
  const held = await fromViews(account, ref.namespace, from, opts);
  if (held) {
    const svc = held.services.get(ref.name);
    if (!svc) throw loadBalancerNotFound(ref);
    return loadBalancerView(ref.account, svc, held.pods);
  }
  return readLoadBalancer(account, ref, opts);
}

/** The same, live, for an account already resolved. */
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

/** Every Service of the scopes, ordered by account, namespace and name: from the views, else two requests per namespace. */
export async function listLoadBalancers(registry: AccountRegistry, filter: LoadBalancerFilter, opts?: KubeCallOptions, from: ReadFrom = {}): Promise<LoadBalancer[]> {
  const scopes: [Account, string][] = filter.account
    ? (filter.namespaces.length ? filter.namespaces : registry.get(filter.account).namespaces).map((ns) => [managedNamespace(registry, filter.account, ns), ns])
    : registry
        .list()
        .filter((a) => filter.include?.(a) ?? true)
        .flatMap((a) => a.namespaces.filter((ns) => !filter.namespaces.length || filter.namespaces.includes(ns)).map((ns): [Account, string] => [a, ns]));
  const perScope = await Promise.all(
    scopes.map(async ([account, namespace]) => {
      const held = await fromViews(account, namespace, from, opts);
      const [services, pods] = held
        ? [held.services.list(), held.pods]
        : await Promise.all([listServices(account.kube, namespace, undefined, opts), managedPods(account, namespace, opts)]);
      return services.filter((s) => !filter.managedOnly || isManagedService(s)).map((s) => loadBalancerView(account.name, s, pods));
    }),
  );
  return perScope.flat().sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}

/** The stable order and page key of a load balancer. */
export function keyOf(lb: LoadBalancer): string {
  return `${lb.account}/${lb.namespace}/${lb.name}`;
}
