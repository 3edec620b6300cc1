import type { V1Namespace } from "@kubernetes/client-node";
import type { KubeCallOptions, KubeClient } from "./client.js";

export function readNamespace(client: KubeClient, name: string, opts?: KubeCallOptions): Promise<V1Namespace> {
  return client.call({ verb: "get", kind: "namespace", name }, (o) => client.core.readNamespace({ name }, o), opts);
}

export function createNamespace(client: KubeClient, name: string, opts?: KubeCallOptions): Promise<V1Namespace> {
  return client.call(
    { verb: "create", kind: "namespace", name },
    (o) => client.core.createNamespace({ body: { metadata: { name } } }, o),
    opts,
  );
}
