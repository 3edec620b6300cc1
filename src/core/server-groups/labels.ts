import { managedByLabel } from "../accounts/pull-secret.js";

export { managedByLabel };

/** The labels by which kubedriver finds its server groups and their pods. */
export const labelKeys = {
  application: "kubedriver.io/application",
  cluster: "kubedriver.io/cluster",
  serverGroup: "kubedriver.io/server-group",
  version: "kubedriver.io/version",
} as const;

/** Annotations kubedriver keeps on a ReplicationController. */
export const annotationKeys = {
  /** The spec as requested, so clones and reads return exactly what was asked for. */
  spec: "kubedriver.io/spec",
  /** The request_id that created the group, so a retried create returns it. */
  createRequestId: "kubedriver.io/create-request-id",
  /** Unique to one create call, so that a create whose answer was lost can tell whether it took effect. */
  createAttempt: "kubedriver.io/create-attempt",
  /** The last mutation's request_id and result, so a retried mutation returns it. */
  lastRequest: "kubedriver.io/last-request",
} as const;

const loadBalancerPrefix = "load-balancer-";

export function loadBalancerLabel(service: string): string {
  return `${loadBalancerPrefix}${service}`;
}

/** The load balancers named by a label set's `load-balancer-*` keys. */
export function loadBalancersIn(labels: Record<string, string> | undefined): string[] {
  return Object.keys(labels ?? {})
    .filter((k) => k.startsWith(loadBalancerPrefix))
    .map((k) => k.slice(loadBalancerPrefix.length));
}

/** Whether every `load-balancer-*` label is "true" (vacuously true without load balancers). */
export function isEnabled(labels: Record<string, string> | undefined): boolean {
  return Object.entries(labels ?? {}).every(([k, v]) => !k.startsWith(loadBalancerPrefix) || v === "true");
}

/** The labels reserved for kubedriver; callers may not set them. */
export function isReservedLabel(key: string): boolean {
  return key.startsWith(loadBalancerPrefix) || key.startsWith("kubedriver.io/") || key === managedByLabel.key;
}
