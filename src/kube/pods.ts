import type { V1Pod } from "@kubernetes/client-node";
import type { KubeCallOptions, KubeClient } from "./client.js";
import type { JsonPatch } from "./json-patch.js";

export async function listPods(client: KubeClient, namespace: string, labelSelector: string, opts?: KubeCallOptions): Promise<V1Pod[]> {
  const list = await client.call(
    { verb: "list", kind: "pods", namespace },
    (o) => client.core.listNamespacedPod({ namespace, labelSelector }, o),
    opts,
  );
  return list.items;
}

export function readPod(client: KubeClient, namespace: string, name: string, opts?: KubeCallOptions): Promise<V1Pod> {
  return client.call({ verb: "get", kind: "pod", namespace, name }, (o) => client.core.readNamespacedPod({ namespace, name }, o), opts);
}

export function patchPod(client: KubeClient, namespace: string, name: string, patch: JsonPatch, opts?: KubeCallOptions): Promise<V1Pod> {
  return client.call(
    { verb: "patch", kind: "pod", namespace, name },
    (o) => client.core.patchNamespacedPod({ namespace, name, body: patch }, o),
    opts,
  );
}

/** Deletes a pod, provided it is still the object with `uid` (409 Conflict otherwise), so a namesake is never hit. */
export function deletePod(client: KubeClient, namespace: string, name: string, uid: string, opts?: KubeCallOptions): Promise<unknown> {
  return client.call(
    { verb: "delete", kind: "pod", namespace, name },
    (o) => client.core.deleteNamespacedPod({ namespace, name, body: { preconditions: { uid } } }, o),
    opts,
  );
}
