import type { V1Pod } from "@kubernetes/client-node";
import { isNotFound, type NotFoundError } from "../../common/errors.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { readPod } from "../../kube/pods.js";
import type { Account } from "../accounts/account.js";
import { isServerGroupPod } from "../shared/ownership.js";
import { notFound, whereIs, type ObjectRef } from "../shared/refs.js";
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
    return { name, outcome: "not-found", serverGroup: "", message: `pod "${name}" not found ${whereIs({ account: account.name, namespace })}` };
  }
  if (!isServerGroupPod(pod)) {
    return { name, outcome: "not-managed", serverGroup: "", message: `pod "${name}" is not part of a kubedriver server group; left alone` };
  }
  return pod;
}

/** NOT_FOUND naming the instance, for reads of one. */
export function instanceNotFound(ref: ObjectRef, why = ""): NotFoundError {
  return notFound("instance", ref, { why });
}
