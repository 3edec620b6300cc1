import type { V1Pod, V1ReplicationController } from "@kubernetes/client-node";
import { isNotFound, NotFoundError } from "../../common/errors.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { readReplicationController } from "../../kube/replication-controllers.js";
import type { Account } from "../accounts/account.js";
import { managedByLabel } from "../accounts/pull-secret.js";
import type { ServerGroupRef } from "./spec.js";

/**
 * The shape of a ReplicationController kubedriver owns: every label and
 * annotation key it sets, every selector it finds them by, and the one read
 * of "this RC, provided it is ours". Operations use these; none spells a key.
 */
export { managedByLabel };

/** The labels by which kubedriver finds its server groups and their pods. */
export const labelKeys = {
  application: "kubedriver.io/application",
  cluster: "kubedriver.io/cluster",
  serverGroup: "kubedriver.io/server-group",
  version: "kubedriver.io/version",
  /** On the RC while an enable/disable has changed its template but maybe not yet all its pods. */
  trafficPending: "kubedriver.io/traffic-pending",
} as const;

/**
 * Kubernetes' recommended labels, on each RC and its pods, for the tools that
 * group by them (dashboards, `kubectl get -l`): the application, the server
 * group as the instance, and its version. Never in a selector: an RC's
 * selector cannot change, and RCs created before these labels lack them.
 */
export const recommendedLabelKeys = {
  name: "app.kubernetes.io/name",
  instance: "app.kubernetes.io/instance",
  version: "app.kubernetes.io/version",
} as const;

/** Annotations kubedriver keeps on a ReplicationController. */
export const annotationKeys = {
  /** The spec as requested, so clones and reads return exactly what was asked for. */
  spec: "kubedriver.io/spec",
  /** The request_id that created the group, so a resumed or retried create finds it. */
  createRequestId: "kubedriver.io/create-request-id",
  /** Unique to one create call, so that a create whose answer was lost can tell whether it took effect. */
  createAttempt: "kubedriver.io/create-attempt",
  /** The traffic change in progress (see traffic.ts): its value and until when its caller may still be at it. */
  trafficChange: "kubedriver.io/traffic-change",
  /**
   * On a pod: the load balancers DeregisterInstances took it out of (a JSON
   * array), so that enabling the group does not put it back.
   */
  deregistered: "kubedriver.io/deregistered-load-balancers",
} as const;

/** The load balancers a pod was deliberately taken out of (see `annotationKeys.deregistered`). */
export function deregisteredFrom(annotations: Record<string, string> | undefined): string[] {
  try {
    const parsed: unknown = JSON.parse(annotations?.[annotationKeys.deregistered] ?? "[]");
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === "string").sort() : [];
  } catch {
    return [];
  }
}

/** Whether a pod belongs to one of kubedriver's server groups (an instance). */
export function isServerGroupPod(pod: V1Pod): boolean {
  const labels = pod.metadata?.labels ?? {};
  return labels[managedByLabel.key] === managedByLabel.value && Boolean(labels[labelKeys.serverGroup]);
}

const loadBalancerPrefix = "load-balancer-";

/** The label a Service named `service` selects pods by. */
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

/** Whether every `load-balancer-*` label is "false" (vacuously true without load balancers). */
export function isDisabled(labels: Record<string, string> | undefined): boolean {
  return Object.entries(labels ?? {}).every(([k, v]) => !k.startsWith(loadBalancerPrefix) || v === "false");
}

/** The labels reserved for kubedriver; callers may not set them. */
export function isReservedLabel(key: string): boolean {
  return key.startsWith(loadBalancerPrefix) || key.startsWith("kubedriver.io/") || key === managedByLabel.key;
}

/** The labels a server group's pods get from kubedriver, the recommended ones too: callers may not set them. */
export function isReservedPodLabel(key: string): boolean {
  return isReservedLabel(key) || Object.values<string>(recommendedLabelKeys).includes(key);
}

const managed = `${managedByLabel.key}=${managedByLabel.value}`;

/** Selectors for kubedriver's RCs and pods (both carry the group's identity labels). */
export const selectors = {
  /** Every server group (and its pods), optionally of one application or cluster. */
  serverGroups(filter: { application?: string; cluster?: string } = {}): string {
    let selector = managed;
    if (filter.application) selector += `,${labelKeys.application}=${filter.application}`;
    if (filter.cluster) selector += `,${labelKeys.cluster}=${filter.cluster}`;
    return selector;
  },
  /** The pods of one server group. */
  podsOf(name: string): string {
    return `${labelKeys.serverGroup}=${name},${managed}`;
  },
  /** kubedriver's pods (and RCs, HPAs) of a namespace, whatever their group. */
  managed(): string {
    return managed;
  },
  /** kubedriver's pods that the load balancer `service` routes to. */
  podsBehind(service: string): string {
    return `${loadBalancerLabel(service)}=true,${managed}`;
  },
  /** Server groups with an enable/disable that may not have reached every pod. */
  trafficPending(): string {
    return `${managed},${labelKeys.trafficPending}=true`;
  },
} as const;

/** The selector the RC itself uses: identity only, never the load-balancer labels that enable/disable flip. */
export function rcSelector(name: string): Record<string, string> {
  return { [labelKeys.serverGroup]: name, [managedByLabel.key]: managedByLabel.value };
}

export function isServerGroup(rc: V1ReplicationController): boolean {
  return rc.metadata?.labels?.[managedByLabel.key] === managedByLabel.value && Boolean(rc.metadata?.annotations?.[annotationKeys.spec]);
}

export function serverGroupNotFound(ref: ServerGroupRef, cause?: unknown, why = ""): NotFoundError {
  return new NotFoundError(`server group "${ref.name}" not found in namespace "${ref.namespace}" of account "${ref.account}"${why}`, {
    cause,
    reason: "SERVER_GROUP_NOT_FOUND",
    resource: { type: "server group", name: ref.name, owner: `account ${ref.account}, namespace ${ref.namespace}` },
    metadata: { account: ref.account, namespace: ref.namespace, name: ref.name },
  });
}

/** Only ReplicationControllers kubedriver created are server groups. */
export function requireServerGroup(rc: V1ReplicationController, ref: ServerGroupRef): void {
  if (!isServerGroup(rc)) {
    throw serverGroupNotFound(ref, undefined, " (a ReplicationController of that name exists, but kubedriver did not create it)");
  }
}

/** The server group's RC: NOT_FOUND naming it when absent or not kubedriver's. */
export async function readServerGroupRc(account: Account, ref: ServerGroupRef, opts?: KubeCallOptions): Promise<V1ReplicationController> {
  const rc = await readReplicationController(account.kube, ref.namespace, ref.name, opts).catch((err: unknown) => {
    throw isNotFound(err) ? serverGroupNotFound(ref, err) : err;
  });
  requireServerGroup(rc, ref);
  return rc;
}
