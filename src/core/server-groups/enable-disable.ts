import { randomUUID } from "node:crypto";
import type { Account } from "../accounts/account.js";
import type { AccountRegistry } from "../accounts/registry.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { once } from "../requests/once.js";
import { readServerGroup } from "./read.js";
import { managedNamespace } from "./scope.js";
import type { ServerGroup, ServerGroupRef } from "./spec.js";
import { startTrafficChange, type TrafficChanges } from "./traffic.js";

export interface TrafficChange {
  serverGroup: ServerGroup;
  /** Pods whose labels this call changed. */
  changedInstances: string[];
}

/**
 * Flips every `load-balancer-*` label of the RC's pod template and of every
 * pod to "true" (enable) or "false" (disable), so the Services start or stop
 * routing to the pods. Idempotent; a change this call could not finish (a
 * cut connection, a crash) is completed by `TrafficChanges` once its lease is
 * over. With a request id, exactly once: a retry returns the first call's
 * list of changed pods.
 */
export async function setTraffic(
  registry: AccountRegistry,
  changes: TrafficChanges,
  ref: ServerGroupRef,
  enabled: boolean,
  requestId: string | undefined,
  opts?: KubeCallOptions,
): Promise<TrafficChange> {
  const account = managedNamespace(registry, ref.account, ref.namespace);
  const change = async (o?: KubeCallOptions): Promise<TrafficChange> => {
    const changedInstances = await changeTraffic(account, changes, ref, enabled, o);
    return { serverGroup: await readServerGroup(account, ref, o), changedInstances };
  };
  if (!requestId) return change(opts);
  return once(
    {
      account,
      namespace: ref.namespace,
      requestId,
      operation: enabled ? "EnableServerGroup" : "DisableServerGroup",
      request: { name: ref.name },
      run: ({ opts: held }) => change(held),
      encode: (r) => JSON.stringify(r.changedInstances),
      replay: async (encoded) => ({ serverGroup: await readServerGroup(account, ref, opts), changedInstances: JSON.parse(encoded) as string[] }),
    },
    opts,
  );
}

async function changeTraffic(account: Account, changes: TrafficChanges, ref: ServerGroupRef, enabled: boolean, opts?: KubeCallOptions): Promise<string[]> {
  const started = await startTrafficChange(account, ref, enabled, randomUUID(), changes.leaseMs, opts);
  if (!started) return [];
  try {
    return await started.finish();
  } catch (err) {
    changes.completeLater(account, ref, started.until);
    throw err;
  }
}
