import type { V1Pod } from "@kubernetes/client-node";
import { isNotFound, NotFoundError } from "../../common/errors.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { readPod } from "../../kube/pods.js";
import type { Account } from "../accounts/account.js";
import { isServerGroupPod, labelKeys } from "../server-groups/ownership.js";
import type { InstanceResult } from "./spec.js";

/** One pod, read from Kubernetes (later: from the live view); undefined when absent. */
export async function findPod(account: Account, namespace: string, name: string, opts?: KubeCallOptions): Promise<V1Pod | undefined> {
  return readPod(account.kube, namespace, name, opts).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
}

/** The pod as an instance, or the result that says why it is not one. */
export async function instanceOrResult(account: Account, namespace: string, name: string, opts?: KubeCallOptions): Promise<V1Pod | InstanceResult> {
  const pod = await findPod(account, namespace, name, opts);
  if (!pod || pod.metadata?.deletionTimestamp) {
    return { name, outcome: "not-found", serverGroup: "", message: `pod "${name}" not found in namespace "${namespace}" of account "${account.name}"` };
  }
  if (!isServerGroupPod(pod)) {
    return { name, outcome: "not-managed", serverGroup: "", message: `pod "${name}" is not part of a kubedriver server group; left alone` };
  }
  return pod;
}

export function serverGroupOfPod(pod: V1Pod): string {
  return pod.metadata?.labels?.[labelKeys.serverGroup] ?? "";
}

/** NOT_FOUND naming the instance, for reads of one. */
export function instanceNotFound(account: string, namespace: string, name: string, why = ""): NotFoundError {
  return new NotFoundError(`instance "${name}" not found in namespace "${namespace}" of account "${account}"${why}`, {
    reason: "INSTANCE_NOT_FOUND",
    resource: { type: "instance", name, owner: `account ${account}, namespace ${namespace}` },
  });
}
