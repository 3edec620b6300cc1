import type { V1Pod } from "@kubernetes/client-node";
import type { KubeCallOptions, KubeClient } from "./client.js";
import type { JsonPatch } from "./json-patch.js";
import type { ListedKind } from "./kinds.js";

export const podKind: ListedKind<V1Pod> = {
  name: "pod",
  plural: "pods",
  group: "",
  version: "v1",
  resource: "pods",
  listPage: (client, params, o) => client.core.listNamespacedPod(params, o),
};

export function readPod(client: KubeClient, namespace: string, name: string, opts?: KubeCallOptions): Promise<V1Pod> {
  return client.call({ verb: "get", kind: podKind.name, namespace, name }, (o) => client.core.readNamespacedPod({ namespace, name }, o), opts);
}

export function patchPod(client: KubeClient, namespace: string, name: string, patch: JsonPatch, opts?: KubeCallOptions): Promise<V1Pod> {
  return client.call(
    { verb: "patch", kind: podKind.name, namespace, name },
    (o) => client.core.patchNamespacedPod({ namespace, name, body: patch }, o),
    opts,
  );
}

/** Deletes a pod, provided it is still the object with `uid` (409 Conflict otherwise), so a namesake is never hit. */
export function deletePod(client: KubeClient, namespace: string, name: string, uid: string, opts?: KubeCallOptions): Promise<unknown> {
  return client.call(
    { verb: "delete", kind: podKind.name, namespace, name },
    (o) => client.core.deleteNamespacedPod({ namespace, name, body: { preconditions: { uid } } }, o),
    opts,
  );
}
