import type { V1ReplicationController } from "@kubernetes/client-node";
import type { Account } from "../accounts/account.js";
import type { AccountRegistry } from "../accounts/registry.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { listPods } from "../../kube/pods.js";
import { findAutoscaler, policyOf } from "../autoscalers/ownership.js";
import type { LiveViews } from "./live-views.js";
import { readServerGroupRc, selectors, serverGroupNotFound } from "./ownership.js";
import { managedNamespace } from "./scope.js";
import type { ServerGroup, ServerGroupRef } from "./spec.js";
import { serverGroupView } from "./view.js";

/** "view": from the watch-fed view, never older than this replica's writes; "strong": one live read. */
export type Consistency = "view" | "strong";

/**
 * One server group with its pods and autoscaler; NOT_FOUND naming it when
 * absent. Served from the namespace's view when it is ready and has caught
 * up with this replica's writes, else (and for "strong") read from the API
 * server.
 */
export async function getServerGroup(
  registry: AccountRegistry,
  ref: ServerGroupRef,
  opts?: KubeCallOptions,
  from: { views?: LiveViews; consistency?: Consistency } = {},
): Promise<ServerGroup> {
  const account = managedNamespace(registry, ref.account, ref.namespace);
  const view = from.consistency === "strong" ? undefined : from.views?.view(ref.account, ref.namespace);
  if (view && (await view.caughtUp(opts))) {
    const group = view.get(ref.name);
    if (!group) throw serverGroupNotFound(ref);
    return group;
  }
  return readServerGroup(account, ref, opts);
}

/** The same, live, for an account already resolved. */
export async function readServerGroup(account: Account, ref: ServerGroupRef, opts?: KubeCallOptions): Promise<ServerGroup> {
  const [rc, pods, hpa] = await Promise.all([
    readServerGroupRc(account, ref, opts),
    listPods(account.kube, ref.namespace, selectors.podsOf(ref.name), opts),
    findAutoscaler(account, ref, opts),
  ]);
  return serverGroupView(ref.account, rc, pods, hpa && policyOf(hpa));
}

/** The view of an RC already read: only its pods and autoscaler are fetched. */
export async function viewWithPods(account: Account, rc: V1ReplicationController, opts?: KubeCallOptions): Promise<ServerGroup> {
  const ref = { account: account.name, namespace: rc.metadata!.namespace!, name: rc.metadata!.name! };
  const [pods, hpa] = await Promise.all([listPods(account.kube, ref.namespace, selectors.podsOf(ref.name), opts), findAutoscaler(account, ref, opts)]);
  return serverGroupView(account.name, rc, pods, hpa && policyOf(hpa));
}
