import type { V1Pod } from "@kubernetes/client-node";
import type { KubeCallOptions, KubeClient } from "./client.js";
import type { JsonPatch } from "./json-patch.js";
import { listAll } from "./paged-list.js";

/** Every pod of a namespace matching a label selector, and the resourceVersion to watch them from. */
export function listPodsAt(
  client: KubeClient,
  namespace: string,
  labelSelector: string,
  opts?: KubeCallOptions,
): Promise<{ items: V1Pod[]; resourceVersion: string }> {
  return listAll(client, { kind: "pods", namespace }, (page, o) => client.core.listNamespacedPod({ namespace, labelSelector, ...page }, o), opts);
}

/** Every pod of a namespace matching a label selector. */
export async function listPods(client: KubeClient, namespace: string, labelSelector: string, opts?: KubeCallOptions): Promise<V1Pod[]> {
  return (await listPodsAt(client, namespace, labelSelector, opts)).items;
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
