import { isNotFound, NotFoundError } from "../../common/errors.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { deleteAutoscaler as deleteHpa } from "../../kube/autoscalers.js";
import type { Account } from "../accounts/account.js";
import { exactlyOnce } from "../shared/exactly-once.js";
import { findAutoscaler } from "../shared/hpa.js";
import { about, whereIs, type ObjectRef } from "../shared/refs.js";
import { managedNamespace } from "../shared/scope.js";
import { groupToChange, readServerGroup, type LiveViews, type ServerGroup } from "../server-groups/index.js";

/**
 * Removes the group's HPA: NOT_FOUND when it has none (unless a resumed call
 * finds its work done). Answered live: a DELETE's answer carries no
 * resourceVersion for the view to wait for.
 */
export async function deleteAutoscaler(account: Account, views: LiveViews, ref: ObjectRef, requestId: string | undefined, opts?: KubeCallOptions): Promise<ServerGroup> {
  managedNamespace(account, ref.namespace);
  const remove = async (resumed: boolean, o?: KubeCallOptions) => {
    await groupToChange(account, ref, views, o);
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
  return exactlyOnce(
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

function noAutoscaler(ref: ObjectRef, cause?: unknown): NotFoundError {
  return new NotFoundError(`server group "${ref.name}" ${whereIs(ref)} has no autoscaler`, {
    cause,
    reason: "AUTOSCALER_NOT_FOUND",
    ...about("autoscaler", ref),
  });
}
