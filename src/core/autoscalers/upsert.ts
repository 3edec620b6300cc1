import { InvalidArgumentError } from "../../common/errors.js";
import { FieldErrors, FieldPath } from "../../common/field-path.js";
import type { KubeCallOptions } from "../../kube/client.js";
import type { AccountRegistry } from "../accounts/registry.js";
import { once } from "../requests/once.js";
import { readServerGroupRc } from "../server-groups/ownership.js";
import { readServerGroup } from "../server-groups/read.js";
import { managedNamespace } from "../server-groups/scope.js";
import type { AutoscalerPolicy, ServerGroup, ServerGroupRef } from "../server-groups/spec.js";
import { ensureAutoscaler } from "./ownership.js";

const maxSize = 10_000;

/** Every problem of a policy, with the request's field paths under `at`. */
export function policyProblems(policy: AutoscalerPolicy | undefined, errors: FieldErrors, at = FieldPath.root("policy")): void {
  if (!policy) {
    errors.add(at, "is required");
    return;
  }
  if (policy.minSize < 1 || policy.minSize > maxSize) errors.add(at.child("min_size"), `must be between 1 and ${maxSize}, got ${policy.minSize}`);
  if (policy.maxSize < Math.max(policy.minSize, 1) || policy.maxSize > maxSize) {
    errors.add(at.child("max_size"), `must be between min_size (${policy.minSize}) and ${maxSize}, got ${policy.maxSize}`);
  }
  const cpu = policy.targetCpuUtilizationPercent;
  if (cpu < 1 || cpu > 100) errors.add(at.child("target_cpu_utilization_percent"), `must be between 1 and 100, got ${cpu}`);
}

/** Creates or replaces the group's HPA; with a request id, exactly once. */
export async function upsertAutoscaler(
  registry: AccountRegistry,
  ref: ServerGroupRef,
  policy: AutoscalerPolicy,
  requestId: string | undefined,
  opts?: KubeCallOptions,
): Promise<ServerGroup> {
  const errors = new FieldErrors();
  policyProblems(policy, errors);
  InvalidArgumentError.throwIfAny(errors, "invalid autoscaler");
  const account = managedNamespace(registry, ref.account, ref.namespace);
  const upsert = async (o?: KubeCallOptions) => {
    await readServerGroupRc(account, ref, o);
    await ensureAutoscaler(account, ref, policy, o);
    return readServerGroup(account, ref, o);
  };
  if (!requestId) return upsert(opts);
  return once(
    {
      account,
      namespace: ref.namespace,
      requestId,
      operation: "UpsertAutoscaler",
      request: { name: ref.name, policy },
      run: ({ opts: held }) => upsert(held),
      encode: () => "",
      replay: () => readServerGroup(account, ref, opts),
    },
    opts,
  );
}
