import type { AccountRegistry } from "../accounts/registry.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { listPods } from "../../kube/pods.js";
import { readReplicationController } from "../../kube/replication-controllers.js";
import { isNotFound, NotFoundError } from "../../common/errors.js";
import { managedNamespace } from "./scope.js";
import type { ServerGroup, ServerGroupRef } from "./spec.js";
import { podSelector, requireServerGroup, serverGroupView } from "./view.js";

/** One server group with its pods; NOT_FOUND naming it when absent. */
export async function getServerGroup(registry: AccountRegistry, ref: ServerGroupRef, opts?: KubeCallOptions): Promise<ServerGroup> {
  const account = managedNamespace(registry, ref.account, ref.namespace);
  const [rc, pods] = await Promise.all([
    readReplicationController(account.kube, ref.namespace, ref.name, opts).catch((err: unknown) => {
      throw isNotFound(err) ? notFound(ref, err) : err;
    }),
    listPods(account.kube, ref.namespace, podSelector(ref.name), opts),
  ]);
  requireServerGroup(rc, ref.account, ref.namespace, ref.name);
  return serverGroupView(ref.account, rc, pods);
}

export function notFound(ref: ServerGroupRef, cause?: unknown): NotFoundError {
  return new NotFoundError(`server group "${ref.name}" not found in namespace "${ref.namespace}" of account "${ref.account}"`, {
    cause,
    reason: "SERVER_GROUP_NOT_FOUND",
    resource: { type: "server group", name: ref.name, owner: `account ${ref.account}, namespace ${ref.namespace}` },
  });
}
