import type { V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import type { KubeCallOptions, KubeClient } from "./client.js";

const kind = "horizontal pod autoscaler";

export function readAutoscaler(client: KubeClient, namespace: string, name: string, opts?: KubeCallOptions): Promise<V2HorizontalPodAutoscaler> {
  return client.call({ verb: "get", kind, namespace, name }, (o) => client.autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace, name }, o), opts);
}

/** Every HPA of a namespace matching `labelSelector`, following continue tokens. */
export async function listAutoscalers(client: KubeClient, namespace: string, labelSelector: string, opts?: KubeCallOptions): Promise<V2HorizontalPodAutoscaler[]> {
  const items: V2HorizontalPodAutoscaler[] = [];
  let token: string | undefined;
  do {
    const page = await client.call(
      { verb: "list", kind: "horizontal pod autoscalers", namespace },
      (o) => client.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace, labelSelector, limit: 500, _continue: token }, o),
      opts,
    );
    items.push(...page.items);
    token = page.metadata?._continue || undefined;
  } while (token);
  return items;
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
