import type { V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import type { KubeCallOptions, KubeClient } from "./client.js";
import { listAll } from "./paged-list.js";

const kind = "horizontal pod autoscaler";

export function readAutoscaler(client: KubeClient, namespace: string, name: string, opts?: KubeCallOptions): Promise<V2HorizontalPodAutoscaler> {
  return client.call({ verb: "get", kind, namespace, name }, (o) => client.autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace, name }, o), opts);
}

/** Every HPA of a namespace matching `labelSelector`, and the resourceVersion to watch them from. */
export function listAutoscalersAt(
  client: KubeClient,
  namespace: string,
  labelSelector: string,
  opts?: KubeCallOptions,
): Promise<{ items: V2HorizontalPodAutoscaler[]; resourceVersion: string }> {
  return listAll(
    client,
    { kind: "horizontal pod autoscalers", namespace },
    (page, o) => client.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace, labelSelector, ...page }, o),
    opts,
  );
}

/** Every HPA of a namespace matching `labelSelector`. */
export async function listAutoscalers(client: KubeClient, namespace: string, labelSelector: string, opts?: KubeCallOptions): Promise<V2HorizontalPodAutoscaler[]> {
  return (await listAutoscalersAt(client, namespace, labelSelector, opts)).items;
}

export function createAutoscaler(client: KubeClient, namespace: string, hpa: V2HorizontalPodAutoscaler, opts?: KubeCallOptions): Promise<V2HorizontalPodAutoscaler> {
  return client.call(
    { verb: "create", kind, namespace, name: hpa.metadata?.name },
    (o) => client.autoscaling.createNamespacedHorizontalPodAutoscaler({ namespace, body: hpa }, o),
    opts,
  );
}

/** Replaces an HPA; its `metadata.resourceVersion` makes a concurrent change fail with 409 Conflict. */
export function replaceAutoscaler(client: KubeClient, namespace: string, hpa: V2HorizontalPodAutoscaler, opts?: KubeCallOptions): Promise<V2HorizontalPodAutoscaler> {
  const name = hpa.metadata!.name!;
  return client.call(
    { verb: "update", kind, namespace, name },
    (o) => client.autoscaling.replaceNamespacedHorizontalPodAutoscaler({ namespace, name, body: hpa }, o),
    opts,
  );
}

export function deleteAutoscaler(client: KubeClient, namespace: string, name: string, opts?: KubeCallOptions): Promise<unknown> {
  return client.call({ verb: "delete", kind, namespace, name }, (o) => client.autoscaling.deleteNamespacedHorizontalPodAutoscaler({ namespace, name }, o), opts);
}
