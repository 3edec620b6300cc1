import { isConflict, isInvalidArgument } from "../../common/errors.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { pointer, type JsonPatch } from "../../kube/json-patch.js";
import { patchPod } from "../../kube/pods.js";
import type { Account } from "../accounts/account.js";
import { exactlyOnce } from "../shared/exactly-once.js";
import { annotationKeys, serverGroupOf } from "../shared/ownership.js";
import { managedNamespace } from "../shared/scope.js";
import { deregisteredFrom, loadBalancersIn, trafficPatch } from "../shared/traffic-labels.js";
import { instanceOrResult } from "./read.js";
import type { InstanceResult, InstancesRef } from "./spec.js";

export interface RegistrationRequest extends InstancesRef {
  /** Empty: every load balancer each pod is labelled for. */
  loadBalancers: string[];
  registered: boolean;
  requestId?: string;
}

/**
 * Takes single pods out of (or back into) load balancers by their
 * `load-balancer-*` labels, and records the deregistration on the pod
 * (`annotationKeys.deregistered`), so that enabling the group — by a caller
 * or by TrafficChanges completing an interrupted enable — leaves it out.
 * Each patch tests the resourceVersion it was computed from, so a
 * concurrent change of the pod is never overwritten (the pod is re-read).
 */
export async function setRegistration(account: Account, req: RegistrationRequest, opts?: KubeCallOptions): Promise<InstanceResult[]> {
  managedNamespace(account, req.namespace);
  const run = (o?: KubeCallOptions) => Promise.all(req.names.map((name) => register(account, req, name, o)));
  return exactlyOnce(
    {
      account,
      namespace: req.namespace,
      requestId: req.requestId,
      operation: req.registered ? "RegisterInstances" : "DeregisterInstances",
      request: { names: req.names, loadBalancers: req.loadBalancers },
      run: ({ opts: held }) => run(held),
      encode: (results) => JSON.stringify(results),
      replay: async (encoded) => JSON.parse(encoded) as InstanceResult[],
    },
    opts,
  );
}

const maxAttempts = 5;

async function register(account: Account, req: RegistrationRequest, name: string, opts?: KubeCallOptions): Promise<InstanceResult> {
  for (let attempt = 0; ; attempt++) {
    const found = await instanceOrResult(account, req.namespace, name, opts);
    if ("outcome" in found) return found;
    const serverGroup = serverGroupOf(found);
    const labels = found.metadata?.labels ?? {};
    const own = loadBalancersIn(labels);
    const missing = req.loadBalancers.filter((lb) => !own.includes(lb));
    if (missing.length > 0) {
      return {
        name,
        outcome: "not-behind-load-balancer",
        serverGroup,
        message: `pod "${name}" of server group "${serverGroup}" is not labelled for load balancer(s) ${missing.join(", ")} (it has: ${own.join(", ") || "none"})`,
      };
    }
    const targets = req.loadBalancers.length ? req.loadBalancers : own;
    const before = deregisteredFrom(found.metadata?.annotations);
    const after = req.registered ? before.filter((lb) => !targets.includes(lb)) : [...new Set([...before, ...targets])].sort();
    const patch = trafficPatch(labels, targets, req.registered, ["metadata", "labels"]);
    if (JSON.stringify(after) !== JSON.stringify(before)) {
      const annotation = pointer("metadata", "annotations", annotationKeys.deregistered);
      if (after.length > 0) {
        if (!found.metadata?.annotations) patch.push({ op: "add", path: pointer("metadata", "annotations"), value: {} });
        patch.push({ op: "add", path: annotation, value: JSON.stringify(after) });
      } else {
        patch.push({ op: "remove", path: annotation });
      }
    }
    if (patch.length === 0) return { name, outcome: "unchanged", serverGroup, message: "" };
    const versioned: JsonPatch = [{ op: "test", path: pointer("metadata", "resourceVersion"), value: found.metadata!.resourceVersion }, ...patch];
    const outcome = await patchPod(account.kube, req.namespace, name, versioned, opts).then(
      () => "changed" as const,
      (err: unknown) => {
        // A failed test (the pod changed since it was read) is answered 422 or 409: read again.
        if (attempt + 1 < maxAttempts && (isInvalidArgument(err) || isConflict(err))) return "retry" as const;
        throw err;
      },
    );
    if (outcome === "changed") return { name, outcome, serverGroup, message: "" };
  }
}
