/**
 * What makes an object kubedriver's, for every kind it owns: the one label
 * that marks it, the identity labels and annotations its server groups and
 * their pods carry, and the selectors they are found by. Every kind's
 * operations use these; none spells a key.
 */

/** The label that marks objects kubedriver created and may therefore change. */
export const managedByLabel = { key: "app.kubernetes.io/managed-by", value: "kubedriver" } as const;

/** Whether kubedriver created the object (it carries the managed-by label). */
export function isOurs(obj: { metadata?: { labels?: Record<string, string> } } | undefined): boolean {
  return obj?.metadata?.labels?.[managedByLabel.key] === managedByLabel.value;
}

/** `labels` with kubedriver's mark added: what a new or adopted object of ours carries. */
export function markOurs(labels: Record<string, string> = {}): Record<string, string> {
  return { ...labels, [managedByLabel.key]: managedByLabel.value };
}

/** `labels` without kubedriver's mark: what a caller set. */
export function withoutMark(labels: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(labels ?? {}).filter(([k]) => k !== managedByLabel.key));
}

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

/** Annotations kubedriver keeps on the objects it owns. */
export const annotationKeys = {
  /** The spec as requested, so clones and reads return exactly what was asked for. */
  spec: "kubedriver.io/spec",
  /** The request_id that created the group, so a resumed or retried create finds it. */
  createRequestId: "kubedriver.io/create-request-id",
  /** Unique to one create call, so that a create whose answer was lost can tell whether it took effect. */
  createAttempt: "kubedriver.io/create-attempt",
  /** The traffic change in progress (see server-groups/traffic.ts): its value and until when its caller may still be at it. */
  trafficChange: "kubedriver.io/traffic-change",
  /**
   * On a pod: the load balancers DeregisterInstances took it out of (a JSON
   * array), so that enabling the group does not put it back.
   */
  deregistered: "kubedriver.io/deregistered-load-balancers",
} as const;

/** The server group an object of kubedriver's (a pod, an HPA) belongs to, by its identity label; "" when none. */
export function serverGroupOf(obj: { metadata?: { labels?: Record<string, string> } }): string {
  return obj.metadata?.labels?.[labelKeys.serverGroup] ?? "";
}

/** Whether a pod belongs to one of kubedriver's server groups (an instance). */
export function isServerGroupPod(pod: { metadata?: { labels?: Record<string, string> } }): boolean {
  return isOurs(pod) && serverGroupOf(pod) !== "";
}

const managed = `${managedByLabel.key}=${managedByLabel.value}`;

/** Selectors for kubedriver's objects (RCs and pods carry the group's identity labels). */
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
  /** Every object kubedriver owns in a namespace (pods, RCs, HPAs, request records …), whatever its group. */
  managed(): string {
    return managed;
  },
  /** Server groups with an enable/disable that may not have reached every pod. */
  trafficPending(): string {
    return `${managed},${labelKeys.trafficPending}=true`;
  },
} as const;

/** The labels reserved for kubedriver; callers may not set them. */
export function isReservedLabel(key: string): boolean {
  return key.startsWith(loadBalancerPrefix) || key.startsWith("kubedriver.io/") || key === managedByLabel.key;
}

/** The labels a server group's pods get from kubedriver, the recommended ones too: callers may not set them. */
export function isReservedPodLabel(key: string): boolean {
  return isReservedLabel(key) || Object.values<string>(recommendedLabelKeys).includes(key);
}

/** Annotations kubedriver keeps for itself; callers may not set them, and reads do not show them. */
export function isReservedAnnotation(key: string): boolean {
  return key.startsWith("kubedriver.io/");
}

/** The prefix of the traffic labels (traffic-labels.ts owns their values). */
export const loadBalancerPrefix = "load-balancer-";
