import type { V1Service } from "@kubernetes/client-node";
import type { KubeCallOptions, KubeClient } from "./client.js";
import { listAll } from "./paged-list.js";

export function readService(client: KubeClient, namespace: string, name: string, opts?: KubeCallOptions): Promise<V1Service> {
  return client.call({ verb: "get", kind: "service", namespace, name }, (o) => client.core.readNamespacedService({ namespace, name }, o), opts);
}

/** Every Service of a namespace (matching `labelSelector` when given), and the resourceVersion the list is consistent at. */
export function listServicesAt(
  client: KubeClient,
  namespace: string,
  labelSelector?: string,
  opts?: KubeCallOptions,
): Promise<{ items: V1Service[]; resourceVersion: string }> {
  return listAll(client, { kind: "services", namespace }, (page, o) => client.core.listNamespacedService({ namespace, labelSelector, ...page }, o), opts);
}

/** Every Service of a namespace (matching `labelSelector` when given), following continue tokens. */
export async function listServices(client: KubeClient, namespace: string, labelSelector?: string, opts?: KubeCallOptions): Promise<V1Service[]> {
  return (await listServicesAt(client, namespace, labelSelector, opts)).items;
}

export function createService(client: KubeClient, namespace: string, service: V1Service, opts?: KubeCallOptions): Promise<V1Service> {
  return client.call(
    { verb: "create", kind: "service", namespace, name: service.metadata?.name },
    (o) => client.core.createNamespacedService({ namespace, body: service }, o),
    opts,
  );
}

/** Replaces a Service; its `metadata.resourceVersion` makes a concurrent change fail with 409 Conflict. */
export function replaceService(client: KubeClient, namespace: string, service: V1Service, opts?: KubeCallOptions): Promise<V1Service> {
  const name = service.metadata!.name!;
  return client.call(
    { verb: "update", kind: "service", namespace, name },
    (o) => client.core.replaceNamespacedService({ namespace, name, body: service }, o),
    opts,
  );
}

/** Deletes a Service, provided it is still the object with `uid` (409 Conflict otherwise). */
export function deleteService(client: KubeClient, namespace: string, name: string, uid: string, opts?: KubeCallOptions): Promise<unknown> {
  return client.call(
    { verb: "delete", kind: "service", namespace, name },
    (o) => client.core.deleteNamespacedService({ namespace, name, body: { preconditions: { uid } } }, o),
    opts,
  );
}
