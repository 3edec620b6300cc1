import { randomUUID } from "node:crypto";
import type { Account } from "../accounts/account.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { exactlyOnce } from "../shared/exactly-once.js";
import { managedNamespace } from "../shared/scope.js";
import type { LiveViews } from "./live-views.js";
import { getServerGroup, readServerGroup } from "./read.js";
import type { ServerGroup, ServerGroupRef } from "./spec.js";
import { startTrafficChange, type TrafficChanges } from "./traffic.js";

export interface TrafficChange {
  serverGroup: ServerGroup;
  /** Pods whose labels this call changed. */
  changedInstances: string[];
}

/** What an enable or disable needs beside the account: the views it answers from, and who completes what it leaves half done. */
export interface TrafficDeps {
  views: LiveViews;
  changes: TrafficChanges;
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
  account: Account,
  deps: TrafficDeps,
  ref: ServerGroupRef,
  enabled: boolean,
  requestId: string | undefined,
  opts?: KubeCallOptions,
): Promise<TrafficChange> {
  managedNamespace(account, ref.namespace);
  const answer = (o?: KubeCallOptions) => getServerGroup(account, ref, { views: deps.views }, o);
  return exactlyOnce(
    {
      account,
      namespace: ref.namespace,
      requestId,
      operation: enabled ? "EnableServerGroup" : "DisableServerGroup",
      request: { name: ref.name },
      run: async ({ opts: held }) => {
        const changedInstances = await changeTraffic(account, deps.changes, ref, enabled, held);
        return { serverGroup: await answer(held), changedInstances };
      },
      encode: (r) => JSON.stringify(r.changedInstances),
      // Another call (perhaps another replica) made the change: only a live read is sure to see it.
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
