import { isNotFound, NotFoundError } from "../../common/errors.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { deleteAutoscaler as deleteHpa } from "../../kube/autoscalers.js";
import type { AccountRegistry } from "../accounts/registry.js";
import { once } from "../requests/once.js";
import { readServerGroupRc } from "../server-groups/ownership.js";
import { readServerGroup } from "../server-groups/read.js";
import { managedNamespace } from "../server-groups/scope.js";
import type { ServerGroup, ServerGroupRef } from "../server-groups/spec.js";
import { findAutoscaler } from "./ownership.js";

/** Removes the group's HPA: NOT_FOUND when it has none (unless a resumed call finds its work done). */
export async function deleteAutoscaler(registry: AccountRegistry, ref: ServerGroupRef, requestId: string | undefined, opts?: KubeCallOptions): Promise<ServerGroup> {
  const account = managedNamespace(registry, ref.account, ref.namespace);
  const remove = async (resumed: boolean, o?: KubeCallOptions) => {
    await readServerGroupRc(account, ref, o);
    const hpa = await findAutoscaler(account, ref, o);
    if (!hpa) {
      if (resumed) return readServerGroup(account, ref, o);
      throw noAutoscaler(ref);
    }
    await deleteHpa(account.kube, ref.namespace, ref.name, o).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
      if (!resumed) throw noAutoscaler(ref, err);
    });
    return readServerGroup(account, ref, o);
  };
  if (!requestId) return remove(false, opts);
  return once(
    {
      account,
      namespace: ref.namespace,
      requestId,
      operation: "DeleteAutoscaler",
      request: { name: ref.name },
      run: ({ resumed, opts: held }) => remove(resumed, held),
      encode: () => "",
      replay: () => readServerGroup(account, ref, opts),
    },
    opts,
  );
}

function noAutoscaler(ref: ServerGroupRef, cause?: unknown): NotFoundError {
  return new NotFoundError(`server group "${ref.name}" in namespace "${ref.namespace}" of account "${ref.account}" has no autoscaler`, {
    cause,
    reason: "AUTOSCALER_NOT_FOUND",
    resource: { type: "autoscaler", name: ref.name, owner: `account ${ref.account}, namespace ${ref.namespace}` },
  });
}
