import type { KubeCallOptions } from "../../kube/client.js";
import type { Account } from "../accounts/account.js";
import { exactlyOnce } from "../shared/exactly-once.js";
import { ensureAutoscaler, type AutoscalerPolicy } from "../shared/hpa.js";
import type { ObjectRef } from "../shared/refs.js";
import { managedNamespace } from "../shared/scope.js";
import { getServerGroup, groupToChange, readServerGroup, type LiveViews, type ServerGroup } from "../server-groups/index.js";

/** Creates or replaces the group's HPA (the policy checked at the edge, `policyProblems`); with a request id, exactly once. */
export async function upsertAutoscaler(
  account: Account,
  views: LiveViews,
  ref: ObjectRef,
  policy: AutoscalerPolicy,
  requestId: string | undefined,
  opts?: KubeCallOptions,
): Promise<ServerGroup> {
  managedNamespace(account, ref.namespace);
  return exactlyOnce(
    {
      account,
      namespace: ref.namespace,
      requestId,
      operation: "UpsertAutoscaler",
      request: { name: ref.name, policy },
      run: async ({ opts: held }) => {
        await groupToChange(account, ref, views, held);
        await ensureAutoscaler(account, ref, policy, held);
        return getServerGroup(account, ref, { views }, held);
      },
      encode: () => "",
      // Another call (perhaps another replica) made the change: only a live read is sure to see it.
      replay: () => readServerGroup(account, ref, opts),
    },
    opts,
  );
}
