import type { V1ReplicationController, V1Scale } from "@kubernetes/client-node";
import type { KubeCallOptions, KubeClient } from "./client.js";
import type { JsonPatch } from "./json-patch.js";
import type { ListedKind } from "./kinds.js";

export const replicationControllerKind: ListedKind<V1ReplicationController> = {
  name: "replication controller",
  plural: "replication controllers",
  group: "",
  version: "v1",
  resource: "replicationcontrollers",
  listPage: (client, params, o) => client.core.listNamespacedReplicationController(params, o),
};

const kind = replicationControllerKind.name;

export function createReplicationController(
  client: KubeClient,
  namespace: string,
  rc: V1ReplicationController,
  opts?: KubeCallOptions,
): Promise<V1ReplicationController> {
  return client.call(
    { verb: "create", kind, namespace, name: rc.metadata?.name },
    (o) => client.core.createNamespacedReplicationController({ namespace, body: rc }, o),
    opts,
  );
}

export function readReplicationController(client: KubeClient, namespace: string, name: string, opts?: KubeCallOptions): Promise<V1ReplicationController> {
  return client.call({ verb: "get", kind, namespace, name }, (o) => client.core.readNamespacedReplicationController({ namespace, name }, o), opts);
}

/** Sets `spec.replicas` through the scale subresource, unconditionally. */
export function scaleReplicationController(
  client: KubeClient,
  namespace: string,
  name: string,
  replicas: number,
  opts?: KubeCallOptions,
): Promise<V1Scale> {
  return client.call(
    { verb: "scale", kind, namespace, name },
    (o) =>
      client.core.replaceNamespacedReplicationControllerScale(
        { namespace, name, body: { metadata: { name, namespace }, spec: { replicas } } },
        o,
      ),
    opts,
  );
}

export function patchReplicationController(
  client: KubeClient,
  namespace: string,
  name: string,
  patch: JsonPatch,
  opts?: KubeCallOptions,
): Promise<V1ReplicationController> {
  return client.call(
    { verb: "patch", kind, namespace, name },
    (o) => client.core.patchNamespacedReplicationController({ namespace, name, body: patch }, o),
    opts,
  );
}

/** Deletes the RC and, before it goes, its pods (foreground cascading deletion). */
export function deleteReplicationController(client: KubeClient, namespace: string, name: string, opts?: KubeCallOptions): Promise<unknown> {
  return client.call(
    { verb: "delete", kind, namespace, name },
    (o) => client.core.deleteNamespacedReplicationController({ namespace, name, body: { propagationPolicy: "Foreground" } }, o),
    opts,
  );
}
