import type { AccountRegistry } from "../accounts/registry.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { createServerGroup } from "./create.js";
import { getServerGroup } from "./read.js";
import type { ServerGroupRef, ServerGroupSpec } from "./spec.js";

export interface CloneRequest {
  source: ServerGroupRef;
  /** Namespace of the clone; default the source's. */
  targetNamespace?: string;
  /** Fields to change; absent ones keep the source's value (target size: its current size). */
  overrides: Partial<ServerGroupSpec>;
  requestId?: string;
}

/** Creates the next version of the resulting cluster from the source's spec; the source is not changed. */
export async function cloneServerGroup(registry: AccountRegistry, req: CloneRequest, opts?: KubeCallOptions) {
  const source = await getServerGroup(registry, req.source, opts);
  const defined = Object.fromEntries(Object.entries(req.overrides).filter(([, v]) => v !== undefined)) as Partial<ServerGroupSpec>;
  return createServerGroup(
    registry,
    {
      account: req.source.account,
      namespace: req.targetNamespace ?? req.source.namespace,
      spec: { ...source.spec, ...defined },
      requestId: req.requestId,
    },
    opts,
  );
}
