import type { V1Pod, V1Service } from "@kubernetes/client-node";
import { FailedPreconditionError, isNotFound, NotFoundError } from "../../common/errors.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { readService } from "../../kube/services.js";
import type { Account } from "../accounts/account.js";
import { labelKeys, loadBalancerLabel, managedByLabel } from "../server-groups/ownership.js";
import type { LoadBalancerRef } from "./spec.js";

/**
 * The shape of a Service kubedriver owns: the selector that makes it a load
 * balancer, the label that says it is kubedriver's, and the one read of
 * "this Service, named in errors as a load balancer".
 */
export function serviceSelector(name: string): Record<string, string> {
  return { [loadBalancerLabel(name)]: "true" };
}

export function isManagedService(svc: V1Service): boolean {
  return svc.metadata?.labels?.[managedByLabel.key] === managedByLabel.value;
}

/** The labels kubedriver sets on its Services, beside the caller's. */
export function ownLabels(): Record<string, string> {
  return { [managedByLabel.key]: managedByLabel.value };
}

/** The caller's labels of a Service, without kubedriver's own. */
export function callerLabels(labels: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(labels ?? {}).filter(([k]) => k !== managedByLabel.key));
}

/** Whether the Service's selector picks the pod (a Service without selector picks none). */
export function routesTo(svc: V1Service, pod: V1Pod): boolean {
  const selector = Object.entries(svc.spec?.selector ?? {});
  const labels = pod.metadata?.labels ?? {};
  return selector.length > 0 && selector.every(([k, v]) => labels[k] === v);
}

/** The server group a pod belongs to, by its identity label. */
export function serverGroupOf(pod: V1Pod): string {
  return pod.metadata?.labels?.[labelKeys.serverGroup] ?? "";
}

function where(ref: LoadBalancerRef): string {
  return `in namespace "${ref.namespace}" of account "${ref.account}"`;
}

export function loadBalancerNotFound(ref: LoadBalancerRef, cause?: unknown): NotFoundError {
  return new NotFoundError(`load balancer "${ref.name}" not found ${where(ref)}`, {
    cause,
    reason: "LOAD_BALANCER_NOT_FOUND",
    resource: { type: "load balancer", name: ref.name, owner: `account ${ref.account}, namespace ${ref.namespace}` },
  });
}

/** A Service kubedriver did not create is left alone unless the caller says `adopt`. */
export function requireManaged(svc: V1Service, ref: LoadBalancerRef, adopt: boolean): void {
  if (adopt || isManagedService(svc)) return;
  throw new FailedPreconditionError(
    `Service "${ref.name}" ${where(ref)} was not created by kubedriver; set adopt: true to let kubedriver take it over`,
    { reason: "LOAD_BALANCER_NOT_MANAGED", resource: { type: "load balancer", name: ref.name, owner: `account ${ref.account}, namespace ${ref.namespace}` } },
  );
}

/** The Service; undefined when there is none. */
export async function findService(account: Account, ref: LoadBalancerRef, opts?: KubeCallOptions): Promise<V1Service | undefined> {
  return readService(account.kube, ref.namespace, ref.name, opts).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
}

/** The Service: NOT_FOUND naming the load balancer when absent. */
export async function readLoadBalancerService(account: Account, ref: LoadBalancerRef, opts?: KubeCallOptions): Promise<V1Service> {
  const svc = await findService(account, ref, opts);
  if (!svc) throw loadBalancerNotFound(ref);
  return svc;
}
