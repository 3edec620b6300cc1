import type { V1Service } from "@kubernetes/client-node";
import type { KubeCallOptions, KubeClient } from "./client.js";

export function readService(client: KubeClient, namespace: string, name: string, opts?: KubeCallOptions): Promise<V1Service> {
  return client.call({ verb: "get", kind: "service", namespace, name }, (o) => client.core.readNamespacedService({ namespace, name }, o), opts);
}
