import type { V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import type { KubeCallOptions, KubeClient } from "./client.js";
import type { ListedKind } from "./kinds.js";

export const autoscalerKind: ListedKind<V2HorizontalPodAutoscaler> = {
  name: "horizontal pod autoscaler",
  plural: "horizontal pod autoscalers",
  group: "autoscaling",
  version: "v2",
  resource: "horizontalpodautoscalers",
  listPage: (client, params, o) => client.autoscaling.listNamespacedHorizontalPodAutoscaler(params, o),
};

const kind = autoscalerKind.name;

export function readAutoscaler(client: KubeClient, namespace: string, name: string, opts?: KubeCallOptions): Promise<V2HorizontalPodAutoscaler> {
  return client.call({ verb: "get", kind, namespace, name }, (o) => client.autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace, name }, o), opts);
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
