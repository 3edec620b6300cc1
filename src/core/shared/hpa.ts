import type { V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { ConflictError, isAlreadyExists, isConflict, isNotFound } from "../../common/errors.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { createAutoscaler, autoscalerKind, readAutoscaler, replaceAutoscaler } from "../../kube/autoscalers.js";
import { apiVersionOf, list } from "../../kube/kinds.js";
import { replicationControllerKind } from "../../kube/replication-controllers.js";
import type { Account } from "../accounts/account.js";
import { isOurs, labelKeys, markOurs, selectors } from "./ownership.js";
import type { ObjectRef } from "./refs.js";

/** How a HorizontalPodAutoscaler sizes a server group. */
export interface AutoscalerPolicy {
  minSize: number;
  maxSize: number;
  targetCpuUtilizationPercent: number;
}

/**
 * The shape of a HorizontalPodAutoscaler kubedriver owns: named after its
 * server group, labelled with the group's identity, scaling the group's
 * ReplicationController by CPU utilization; and the reads of it. Server
 * groups read it for their views, the autoscalers feature writes it.
 */
export function autoscalerManifest(ref: ObjectRef, policy: AutoscalerPolicy): V2HorizontalPodAutoscaler {
  return {
    apiVersion: apiVersionOf(autoscalerKind),
    kind: "HorizontalPodAutoscaler",
    metadata: { name: ref.name, labels: markOurs({ [labelKeys.serverGroup]: ref.name }) },
    spec: {
      scaleTargetRef: { apiVersion: apiVersionOf(replicationControllerKind), kind: "ReplicationController", name: ref.name },
      minReplicas: policy.minSize,
      maxReplicas: policy.maxSize,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: policy.targetCpuUtilizationPercent } } }],
    },
  };
}

/** Whether the HPA is one kubedriver made to scale `group`. */
function scales(hpa: V2HorizontalPodAutoscaler, group: string): boolean {
  const target = hpa.spec?.scaleTargetRef;
  return isOurs(hpa) && target?.kind === "ReplicationController" && target.name === group;
}

export function policyOf(hpa: V2HorizontalPodAutoscaler): AutoscalerPolicy {
  const cpu = hpa.spec?.metrics?.find((m) => m.type === "Resource" && m.resource?.name === "cpu");
  return {
    minSize: hpa.spec?.minReplicas ?? 1,
    maxSize: hpa.spec?.maxReplicas ?? 0,
    targetCpuUtilizationPercent: cpu?.resource?.target?.averageUtilization ?? 0,
  };
}

/** The group's HPA, provided kubedriver made it for that group; undefined when there is none. */
export async function findAutoscaler(account: Account, ref: ObjectRef, opts?: KubeCallOptions): Promise<V2HorizontalPodAutoscaler | undefined> {
  const hpa = await readAutoscaler(account.kube, ref.namespace, ref.name, opts).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  return hpa && scales(hpa, ref.name) ? hpa : undefined;
}

/** The server group a kubedriver HPA scales, and its policy; undefined for an HPA kubedriver did not make. */
export function autoscaledGroup(hpa: V2HorizontalPodAutoscaler): { group: string; policy: AutoscalerPolicy } | undefined {
  const group = hpa.spec?.scaleTargetRef?.name ?? "";
  return scales(hpa, group) ? { group, policy: policyOf(hpa) } : undefined;
}

/** The policies of every kubedriver HPA of a namespace, by server group name. */
export async function autoscalersIn(account: Account, namespace: string, opts?: KubeCallOptions): Promise<Map<string, AutoscalerPolicy>> {
  const hpas = await list(account.kube, autoscalerKind, namespace, selectors.managed(), opts);
  return new Map(hpas.flatMap((h) => autoscaledGroup(h) ?? []).map((a) => [a.group, a.policy]));
}

const maxAttempts = 10;

/** Creates the group's HPA or replaces its policy, under the version read, so concurrent changes are not lost. */
export async function ensureAutoscaler(account: Account, ref: ObjectRef, policy: AutoscalerPolicy, opts?: KubeCallOptions): Promise<void> {
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
    if (JSON.stringify(policyOf(existing)) === JSON.stringify(policy) && scales(existing, ref.name)) return;
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
