import { isConflict, isNotFound } from "../../common/errors.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { deletePod } from "../../kube/pods.js";
import type { Account } from "../accounts/account.js";
import { exactlyOnce } from "../shared/exactly-once.js";
import { serverGroupOf } from "../shared/ownership.js";
import { managedNamespace } from "../shared/scope.js";
import { instanceOrResult } from "./read.js";
import type { InstanceResult, InstancesRef } from "./spec.js";

/**
 * Deletes the named pods of kubedriver server groups; their RCs replace them.
 * Each delete is conditional on the uid just read, so a pod recreated under
 * the same name is not hit. Reports per pod, in request order; with a
 * request id, exactly once (a retry gets the first call's report).
 */
export async function terminateInstances(account: Account, ref: InstancesRef, requestId: string | undefined, opts?: KubeCallOptions): Promise<InstanceResult[]> {
  managedNamespace(account, ref.namespace);
  const run = (o?: KubeCallOptions) => Promise.all(ref.names.map((name) => terminate(account, ref.namespace, name, o)));
  return exactlyOnce(
    {
      account,
      namespace: ref.namespace,
      requestId,
      operation: "TerminateInstances",
      request: { names: ref.names },
      run: ({ opts: held }) => run(held),
      encode: (results) => JSON.stringify(results),
      replay: async (encoded) => JSON.parse(encoded) as InstanceResult[],
    },
    opts,
  );
}

async function terminate(account: Account, namespace: string, name: string, opts?: KubeCallOptions): Promise<InstanceResult> {
  const found = await instanceOrResult(account, namespace, name, opts);
  if ("outcome" in found) return found;
  const serverGroup = serverGroupOf(found);
  const gone = await deletePod(account.kube, namespace, name, found.metadata!.uid!, opts).then(
    () => false,
    (err: unknown) => {
      if (isNotFound(err) || isConflict(err)) return true;
      throw err;
    },
  );
  if (gone) return { name, outcome: "not-found", serverGroup, message: `pod "${name}" went away before it could be deleted` };
  return { name, outcome: "changed", serverGroup, message: "" };
}
