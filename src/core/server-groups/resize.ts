import type { KubeCallOptions } from "../../kube/client.js";
import { scaleReplicationController } from "../../kube/replication-controllers.js";
import { isNotFound } from "../../common/errors.js";
import type { Account } from "../accounts/account.js";
import { exactlyOnce } from "../shared/exactly-once.js";
import { ensureAutoscaler } from "../shared/hpa.js";
import { managedNamespace } from "../shared/scope.js";
import type { LiveViews } from "./live-views.js";
import { serverGroupNotFound } from "./ownership.js";
import { getServerGroup, groupToChange, readServerGroup } from "./read.js";
import type { ServerGroup, ServerGroupRef } from "./spec.js";

/** A resize, validated at the edge (`checkTargetSize`). */
export interface ResizeRequest {
  ref: ServerGroupRef;
  targetSize: number;
  requestId?: string;
}

/**
 * Sets the number of pods through the scale subresource and returns once the
 * API server accepted it; an autoscaled group's autoscaler gets the size as
 * its minimum (and maximum, when larger). The group and its autoscaler are
 * read from the namespace's view and the answer waits for the view to see
 * the write, so a resize of a group the view holds is one Kubernetes request.
 * Resizing to a size is idempotent by nature; with a request id it is also
 * refused when the id was used for another request.
 */
export async function resizeServerGroup(account: Account, views: LiveViews, req: ResizeRequest, opts?: KubeCallOptions): Promise<ServerGroup> {
  const { ref, targetSize } = req;
  managedNamespace(account, ref.namespace);
  const resize = async (o?: KubeCallOptions) => {
    const current = await groupToChange(account, ref, views, o);
    // An autoscaled group keeps the new size as its floor, so the autoscaler does not undo it;
    // at 0 pods Kubernetes leaves the autoscaler idle.
    const policy = current.autoscaler;
    const floor = policy && targetSize > 0 ? { ...policy, minSize: targetSize, maxSize: Math.max(policy.maxSize, targetSize) } : undefined;
    if (floor && JSON.stringify(floor) !== JSON.stringify(policy)) await ensureAutoscaler(account, ref, floor, o);
    await scaleReplicationController(account.kube, ref.namespace, ref.name, targetSize, o).catch((err: unknown) => {
      throw isNotFound(err) ? serverGroupNotFound(ref, err) : err;
    });
    return getServerGroup(account, ref, { views }, o);
  };
  return exactlyOnce(
    {
      account,
      namespace: ref.namespace,
      requestId: req.requestId,
      operation: "ResizeServerGroup",
      request: { name: ref.name, targetSize },
      run: ({ opts: held }) => resize(held),
      encode: () => "",
      // Another call (perhaps another replica) made the change: only a live read is sure to see it.
      replay: () => readServerGroup(account, ref, opts),
    },
    opts,
  );
}
