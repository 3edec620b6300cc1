import type { V1Secret } from "@kubernetes/client-node";
import type { KubeCallOptions, KubeClient } from "./client.js";
import type { ListedKind } from "./kinds.js";

export const secretKind: ListedKind<V1Secret> = {
  name: "secret",
  plural: "secrets",
  group: "",
  version: "v1",
  resource: "secrets",
  listPage: (client, params, o) => client.core.listNamespacedSecret(params, o),
};

export function readSecret(client: KubeClient, namespace: string, name: string, opts?: KubeCallOptions): Promise<V1Secret> {
  return client.call({ verb: "get", kind: secretKind.name, namespace, name }, (o) => client.core.readNamespacedSecret({ namespace, name }, o), opts);
}

export function createSecret(client: KubeClient, namespace: string, secret: V1Secret, opts?: KubeCallOptions): Promise<V1Secret> {
  return client.call(
    { verb: "create", kind: secretKind.name, namespace, name: secret.metadata?.name },
    (o) => client.core.createNamespacedSecret({ namespace, body: secret }, o),
    opts,
  );
}

/** Replaces a secret; `secret.metadata.resourceVersion` makes it fail on a concurrent change. */
export function replaceSecret(client: KubeClient, namespace: string, secret: V1Secret, opts?: KubeCallOptions): Promise<V1Secret> {
  const name = secret.metadata!.name!;
  return client.call(
    { verb: "update", kind: secretKind.name, namespace, name },
    (o) => client.core.replaceNamespacedSecret({ namespace, name, body: secret }, o),
    opts,
  );
}

/** Deletes a secret; with `resourceVersion`, only that version of it (409 Conflict otherwise). */
export function deleteSecret(client: KubeClient, namespace: string, name: string, opts?: KubeCallOptions & { resourceVersion?: string }): Promise<unknown> {
  const body = opts?.resourceVersion ? { preconditions: { resourceVersion: opts.resourceVersion } } : undefined;
  return client.call(
    { verb: "delete", kind: secretKind.name, namespace, name },
    (o) => client.core.deleteNamespacedSecret({ namespace, name, body }, o),
    opts,
  );
}
