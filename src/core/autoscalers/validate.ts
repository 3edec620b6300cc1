import { FieldPath, type FieldErrors } from "../../common/field-path.js";
import type { AutoscalerPolicy } from "../shared/hpa.js";

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
