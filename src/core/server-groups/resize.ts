import type { AccountRegistry } from "../accounts/registry.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { scaleReplicationController } from "../../kube/replication-controllers.js";
import { isNotFound } from "../../common/errors.js";
import { ensureAutoscaler } from "../autoscalers/ownership.js";
import { once } from "../requests/once.js";
import { serverGroupNotFound } from "./ownership.js";
import { readServerGroup } from "./read.js";
import { managedNamespace } from "./scope.js";
import type { ServerGroup, ServerGroupRef } from "./spec.js";

/**
 * Sets the number of pods through the scale subresource and returns once the
 * API server accepted it; an autoscaled group's autoscaler gets the size as
 * its minimum (and maximum, when larger). Resizing to a size is idempotent by nature; with a
 * request id it is also refused when the id was used for another request.
 * `targetSize` is checked by the caller (checkTargetSize).
 */
export async function resizeServerGroup(
  registry: AccountRegistry,
  ref: ServerGroupRef,
  targetSize: number,
  requestId: string | undefined,
  opts?: KubeCallOptions,
): Promise<ServerGroup> {
  const account = managedNamespace(registry, ref.account, ref.namespace);
  const resize = async (o?: KubeCallOptions) => {
    const current = await readServerGroup(account, ref, o);
    // An autoscaled group keeps the new size as its floor, so the autoscaler does not undo it;
    // at 0 pods Kubernetes leaves the autoscaler idle.
    const policy = current.autoscaler;
    const floor = policy && targetSize > 0 ? { ...policy, minSize: targetSize, maxSize: Math.max(policy.maxSize, targetSize) } : undefined;
    const moves = floor && JSON.stringify(floor) !== JSON.stringify(policy);
    if (current.spec.targetSize === targetSize && !moves) return current;
    if (floor && moves) await ensureAutoscaler(account, ref, floor, o);
    await scaleReplicationController(account.kube, ref.namespace, ref.name, targetSize, o).catch((err: unknown) => {
      throw isNotFound(err) ? serverGroupNotFound(ref, err) : err;
    });
    return readServerGroup(account, ref, o);
  };
  if (!requestId) return resize(opts);
  return once(
    {
      account,
      namespace: ref.namespace,
      requestId,
      operation: "ResizeServerGroup",
      request: { name: ref.name, targetSize },
      run: ({ opts: held }) => resize(held),
      encode: () => "",
      replay: () => readServerGroup(account, ref, opts),
    },
    opts,
  );
}
