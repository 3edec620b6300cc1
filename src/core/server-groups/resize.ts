import type { AccountRegistry } from "../accounts/registry.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { scaleReplicationController } from "../../kube/replication-controllers.js";
import { InvalidArgumentError, isNotFound } from "../../common/errors.js";
import { getServerGroup, notFound } from "./read.js";
import type { ServerGroup, ServerGroupRef } from "./spec.js";

const maxTargetSize = 10_000;

/**
 * Sets the number of pods through the scale subresource and returns once the
 * API server accepted it. Resizing to a size is idempotent by nature, so a
 * retry (with or without request id) has the same effect.
 */
export async function resizeServerGroup(registry: AccountRegistry, ref: ServerGroupRef, targetSize: number, opts?: KubeCallOptions): Promise<ServerGroup> {
  if (!Number.isInteger(targetSize) || targetSize < 0 || targetSize > maxTargetSize) {
    throw new InvalidArgumentError(`target_size must be between 0 and ${maxTargetSize}, got ${targetSize}`, [
      { field: "target_size", description: `must be between 0 and ${maxTargetSize}, got ${targetSize}` },
    ]);
  }
  const current = await getServerGroup(registry, ref, opts);
  if (current.spec.targetSize !== targetSize) {
    await scaleReplicationController(registry.get(ref.account).kube, ref.namespace, ref.name, targetSize, opts).catch((err: unknown) => {
      throw isNotFound(err) ? notFound(ref, err) : err;
    });
  }
  return getServerGroup(registry, ref, opts);
}
