import type { V1Pod, V1Service } from "@kubernetes/client-node";
import { FailedPreconditionError, isNotFound, type NotFoundError } from "../../common/errors.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { readService } from "../../kube/services.js";
import type { Account } from "../accounts/account.js";
import { isOurs } from "../shared/ownership.js";
import { about, notFound, whereIs } from "../shared/refs.js";
import type { LoadBalancerRef } from "./spec.js";

/**
 * A Service as a load balancer: whether its selector picks a pod, and the
 * one read of "this Service, named in errors as a load balancer". Its
 * selector and traffic labels are shared/traffic-labels.ts's, its mark
 * shared/ownership.ts's.
 */

/** Whether the Service's selector picks the pod (a Service without selector picks none). */
export function routesTo(svc: V1Service, pod: V1Pod): boolean {
  const selector = Object.entries(svc.spec?.selector ?? {});
  const labels = pod.metadata?.labels ?? {};
  return selector.length > 0 && selector.every(([k, v]) => labels[k] === v);
}

export function loadBalancerNotFound(ref: LoadBalancerRef, cause?: unknown): NotFoundError {
  return notFound("load balancer", ref, { cause });
}

/** A Service kubedriver did not create is left alone unless the caller says `adopt`. */
export function requireManaged(svc: V1Service, ref: LoadBalancerRef, adopt: boolean): void {
  if (adopt || isOurs(svc)) return;
  throw new FailedPreconditionError(`Service "${ref.name}" ${whereIs(ref)} was not created by kubedriver; set adopt: true to let kubedriver take it over`, {
    reason: "LOAD_BALANCER_NOT_MANAGED",
    ...about("load balancer", ref),
  });
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
