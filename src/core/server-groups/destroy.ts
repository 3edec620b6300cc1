import type { AccountRegistry } from "../accounts/registry.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { deleteAutoscaler } from "../../kube/autoscalers.js";
import { deleteReplicationController } from "../../kube/replication-controllers.js";
import { findAutoscaler } from "../autoscalers/ownership.js";
import { isNotFound } from "../../common/errors.js";
import { once } from "../requests/once.js";
import { readServerGroupRc, serverGroupNotFound } from "./ownership.js";
import { managedNamespace } from "./scope.js";
import type { ServerGroupRef } from "./spec.js";

/**
 * Deletes the RC, its autoscaler and its pods (foreground cascade); NOT_FOUND when there is
 * no such server group. With a request id, exactly once: retries and
 * concurrent duplicates answer as the first call did, even once the group is
 * gone, on any kubedriver replica.
 */
export async function destroyServerGroup(
  registry: AccountRegistry,
  ref: ServerGroupRef,
  requestId: string | undefined,
  opts?: KubeCallOptions,
): Promise<void> {
  const account = managedNamespace(registry, ref.account, ref.namespace);
  const destroy = async (resumed: boolean, o?: KubeCallOptions) => {
    // Resumed after a holder that died or gave up: the group being gone is its work done.
    const gone = (err: unknown) => resumed && isNotFound(err);
    try {
      await readServerGroupRc(account, ref, o);
    } catch (err) {
      if (gone(err)) return;
      throw err;
    }
    // The autoscaler first: left behind, it would point at nothing, or at a namesake created later.
    if (await findAutoscaler(account, ref, o)) {
      await deleteAutoscaler(account.kube, ref.namespace, ref.name, o).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
    await deleteReplicationController(account.kube, ref.namespace, ref.name, o).catch((err: unknown) => {
      if (gone(err)) return;
      throw isNotFound(err) ? serverGroupNotFound(ref, err) : err;
    });
  };
  if (!requestId) return destroy(false, opts);
  return once(
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
