import type { V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { ConflictError, isAlreadyExists, isConflict, isNotFound } from "../../common/errors.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { createAutoscaler, listAutoscalers, readAutoscaler, replaceAutoscaler } from "../../kube/autoscalers.js";
import type { Account } from "../accounts/account.js";
import { labelKeys, managedByLabel, selectors } from "../server-groups/ownership.js";
import type { AutoscalerPolicy, ServerGroupRef } from "../server-groups/spec.js";

/**
 * The shape of a HorizontalPodAutoscaler kubedriver owns: named after its
 * server group, labelled with the group's identity, scaling the group's
 * ReplicationController by CPU utilization; and the reads of it.
 */
export function autoscalerManifest(ref: ServerGroupRef, policy: AutoscalerPolicy): V2HorizontalPodAutoscaler {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: ref.name, labels: { [managedByLabel.key]: managedByLabel.value, [labelKeys.serverGroup]: ref.name } },
    spec: {
      scaleTargetRef: { apiVersion: "v1", kind: "ReplicationController", name: ref.name },
      minReplicas: policy.minSize,
      maxReplicas: policy.maxSize,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: policy.targetCpuUtilizationPercent } } }],
    },
  };
}

function isOurs(hpa: V2HorizontalPodAutoscaler, group: string): boolean {
  const target = hpa.spec?.scaleTargetRef;
  return hpa.metadata?.labels?.[managedByLabel.key] === managedByLabel.value && target?.kind === "ReplicationController" && target.name === group;
}

export function policyOf(hpa: V2HorizontalPodAutoscaler): AutoscalerPolicy {
  const cpu = hpa.spec?.metrics?.find((m) => m.type === "Resource" && m.resource?.name === "cpu");
  return {
    minSize: hpa.spec?.minReplicas ?? 1,
    maxSize: hpa.spec?.maxReplicas ?? 0,
    targetCpuUtilizationPercent: cpu?.resource?.target.averageUtilization ?? 0,
  };
}

/** The group's HPA, provided kubedriver made it for that group; undefined when there is none. */
export async function findAutoscaler(account: Account, ref: ServerGroupRef, opts?: KubeCallOptions): Promise<V2HorizontalPodAutoscaler | undefined> {
  const hpa = await readAutoscaler(account.kube, ref.namespace, ref.name, opts).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  return hpa && isOurs(hpa, ref.name) ? hpa : undefined;
}

/** The server group a kubedriver HPA scales, and its policy; undefined for an HPA kubedriver did not make. */
export function autoscaledGroup(hpa: V2HorizontalPodAutoscaler): { group: string; policy: AutoscalerPolicy } | undefined {
  const group = hpa.spec?.scaleTargetRef.name ?? "";
  return isOurs(hpa, group) ? { group, policy: policyOf(hpa) } : undefined;
}

/** The policies of every kubedriver HPA of a namespace, by server group name. */
export async function autoscalersIn(account: Account, namespace: string, opts?: KubeCallOptions): Promise<Map<string, AutoscalerPolicy>> {
  const hpas = await listAutoscalers(account.kube, namespace, selectors.managed(), opts);
  return new Map(hpas.flatMap((h) => autoscaledGroup(h) ?? []).map((a) => [a.group, a.policy]));
}

const maxAttempts = 10;

/** Creates the group's HPA or replaces its policy, under the version read, so concurrent changes are not lost. */
export async function ensureAutoscaler(account: Account, ref: ServerGroupRef, policy: AutoscalerPolicy, opts?: KubeCallOptions): Promise<void> {
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const existing = await readAutoscaler(account.kube, ref.namespace, ref.name, opts).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    const wanted = autoscalerManifest(ref, policy);
    if (!existing) {
      const created = await createAutoscaler(account.kube, ref.namespace, wanted, opts).then(
        () => true,
        (err: unknown) => {
          if (isAlreadyExists(err)) return false;
          throw err;
        },
      );
      if (created) return;
      continue;
    }
    if (JSON.stringify(policyOf(existing)) === JSON.stringify(policy) && isOurs(existing, ref.name)) return;
    const next: V2HorizontalPodAutoscaler = { ...existing, metadata: { ...existing.metadata, labels: { ...existing.metadata?.labels, ...wanted.metadata!.labels } }, spec: wanted.spec };
    const replaced = await replaceAutoscaler(account.kube, ref.namespace, next, opts).then(
      () => true,
      (err: unknown) => {
        if (isConflict(err)) return false;
        throw err;
      },
    );
    if (replaced) return;
  }
  throw new ConflictError(`autoscaler of server group "${ref.name}" in namespace "${ref.namespace}" of account "${ref.account}" kept changing concurrently; retry`, {
    reason: "CONCURRENT_CHANGES",
  });
}
