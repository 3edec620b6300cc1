import type { KubeCallOptions } from "../../kube/client.js";
import { deleteAutoscaler } from "../../kube/autoscalers.js";
import { deleteReplicationController } from "../../kube/replication-controllers.js";
import { isNotFound } from "../../common/errors.js";
import type { Account } from "../accounts/account.js";
import { exactlyOnce } from "../shared/exactly-once.js";
import { managedNamespace } from "../shared/scope.js";
import type { LiveViews } from "./live-views.js";
import { serverGroupNotFound } from "./ownership.js";
import { groupToChange } from "./read.js";
import type { ServerGroupRef } from "./spec.js";

/**
 * Deletes the RC, its autoscaler and its pods (foreground cascade); NOT_FOUND when there is
 * no such server group. With a request id, exactly once: retries and
 * concurrent duplicates answer as the first call did, even once the group is
 * gone, on any kubedriver replica.
 */
export async function destroyServerGroup(account: Account, views: LiveViews, ref: ServerGroupRef, requestId: string | undefined, opts?: KubeCallOptions): Promise<void> {
  managedNamespace(account, ref.namespace);
  const destroy = async (resumed: boolean, o?: KubeCallOptions) => {
    // Resumed after a holder that died or gave up: the group being gone is its work done.
    const gone = (err: unknown) => resumed && isNotFound(err);
    const group = await groupToChange(account, ref, views, o).catch((err: unknown) => {
      if (gone(err)) return undefined;
      throw err;
    });
    if (!group) return;
    // The autoscaler first: left behind, it would point at nothing, or at a namesake created later.
    if (group.autoscaler) {
      await deleteAutoscaler(account.kube, ref.namespace, ref.name, o).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
    await deleteReplicationController(account.kube, ref.namespace, ref.name, o).catch((err: unknown) => {
      if (gone(err)) return;
      throw isNotFound(err) ? serverGroupNotFound(ref, err) : err;
    });
  };
  return exactlyOnce(
    {
      account,
      namespace: ref.namespace,
      requestId,
      operation: "DestroyServerGroup",
      request: { name: ref.name },
      run: ({ resumed, opts: held }) => destroy(resumed, held),
      encode: () => "",
      replay: async () => {},
    },
    opts,
  );
}
