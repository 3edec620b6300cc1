import type { V1Namespace } from "@kubernetes/client-node";
import type { KubeCallOptions, KubeClient } from "./client.js";
import type { Kind } from "./kinds.js";

export const namespaceKind: Kind = { name: "namespace", plural: "namespaces", group: "", version: "v1", resource: "namespaces" };

export function readNamespace(client: KubeClient, name: string, opts?: KubeCallOptions): Promise<V1Namespace> {
  return client.call({ verb: "get", kind: namespaceKind.name, name }, (o) => client.core.readNamespace({ name }, o), opts);
}

export function createNamespace(client: KubeClient, name: string, opts?: KubeCallOptions): Promise<V1Namespace> {
  return client.call(
    { verb: "create", kind: namespaceKind.name, name },
    (o) => client.core.createNamespace({ body: { metadata: { name } } }, o),
    opts,
  );
}
