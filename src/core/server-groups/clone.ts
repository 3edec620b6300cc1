import { InvalidArgumentError } from "../../common/errors.js";
import { FieldErrors } from "../../common/field-path.js";
import type { KubeCallOptions } from "../../kube/client.js";
import type { Account } from "../accounts/account.js";
import { ensureAutoscaler } from "../shared/hpa.js";
import { managedNamespace } from "../shared/scope.js";
import { claimNextVersion, createdOnce } from "./create.js";
import { readServerGroup } from "./read.js";
import type { ServerGroup, ServerGroupRef, ServerGroupSpec } from "./spec.js";
import { checkSpec } from "./validate.js";

export interface CloneRequest {
  source: ServerGroupRef;
  /** Namespace of the clone; default the source's. */
  targetNamespace?: string;
  /** Fields to change; absent ones keep the source's value (target size: its current size). */
  overrides: Partial<ServerGroupSpec>;
  requestId?: string;
  /**
   * Where the merged spec's problems go, beside those the caller already
   * found in the request (wire fields, request id), so that one answer names
   * them all, at the caller's paths; with any of them, nothing is written.
   */
  problems?: FieldErrors;
}

/**
 * Creates the next version of the resulting cluster from the source's spec,
 * with a copy of the source's autoscaler; the source is not changed. With a
 * request id, exactly once: the request (not the source's spec at the time)
 * is what a retry must repeat. `account` is the source's, and the clone's.
 */
export async function cloneServerGroup(account: Account, req: CloneRequest, opts?: KubeCallOptions): Promise<ServerGroup> {
  managedNamespace(account, req.source.namespace);
  const defined = Object.fromEntries(Object.entries(req.overrides).filter(([, v]) => v !== undefined)) as Partial<ServerGroupSpec>;
  const problems = req.problems ?? new FieldErrors();
  if (!problems.empty) {
    // Only a read, to name the merged spec's problems too; a source that cannot be read adds none.
    const source = await readServerGroup(account, req.source, opts).catch(() => undefined);
    if (source) checkSpec({ ...source.spec, ...defined }, problems);
    InvalidArgumentError.throwIfAny(problems, "invalid clone request");
  }
  const namespace = req.targetNamespace ?? req.source.namespace;
  managedNamespace(account, namespace);
  return createdOnce(
    { account, namespace, requestId: req.requestId, operation: "CloneServerGroup", request: { source: req.source, overrides: defined } },
    async (o) => {
      const source = await readServerGroup(account, req.source, o);
      const spec = checkSpec({ ...source.spec, ...defined }, problems);
      InvalidArgumentError.throwIfAny(problems, "invalid clone request");
      const clone = await claimNextVersion(account, namespace, spec, req.requestId, o);
      if (!source.autoscaler) return clone;
      // Also when resumed: the clone found again gets the autoscaler an earlier holder may not have made.
      await ensureAutoscaler(account, clone, source.autoscaler, o);
      return { ...clone, autoscaler: source.autoscaler };
    },
    opts,
  );
}
