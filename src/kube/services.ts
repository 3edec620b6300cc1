import type { V1Service } from "@kubernetes/client-node";
import type { KubeCallOptions, KubeClient } from "./client.js";
import type { ListedKind } from "./kinds.js";

export const serviceKind: ListedKind<V1Service> = {
  name: "service",
  plural: "services",
  group: "",
  version: "v1",
  resource: "services",
  listPage: (client, params, o) => client.core.listNamespacedService(params, o),
};

export function readService(client: KubeClient, namespace: string, name: string, opts?: KubeCallOptions): Promise<V1Service> {
  return client.call({ verb: "get", kind: serviceKind.name, namespace, name }, (o) => client.core.readNamespacedService({ namespace, name }, o), opts);
}

export function createService(client: KubeClient, namespace: string, service: V1Service, opts?: KubeCallOptions): Promise<V1Service> {
  return client.call(
    { verb: "create", kind: serviceKind.name, namespace, name: service.metadata?.name },
    (o) => client.core.createNamespacedService({ namespace, body: service }, o),
    opts,
  );
}

/** Replaces a Service; its `metadata.resourceVersion` makes a concurrent change fail with 409 Conflict. */
export function replaceService(client: KubeClient, namespace: string, service: V1Service, opts?: KubeCallOptions): Promise<V1Service> {
  const name = service.metadata!.name!;
  return client.call(
    { verb: "update", kind: serviceKind.name, namespace, name },
    (o) => client.core.replaceNamespacedService({ namespace, name, body: service }, o),
    opts,
  );
}

/** Deletes a Service, provided it is still the object with `uid` (409 Conflict otherwise). */
export function deleteService(client: KubeClient, namespace: string, name: string, uid: string, opts?: KubeCallOptions): Promise<unknown> {
  return client.call(
    { verb: "delete", kind: serviceKind.name, namespace, name },
    (o) => client.core.deleteNamespacedService({ namespace, name, body: { preconditions: { uid } } }, o),
    opts,
  );
}
