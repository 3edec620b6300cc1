import type { Account } from "../accounts/account.js";
import type { AccountRegistry } from "../accounts/registry.js";
import type { V1ReplicationController } from "@kubernetes/client-node";
import type { KubeCallOptions } from "../../kube/client.js";
import { listPods } from "../../kube/pods.js";
import type { LiveViews } from "./live-views.js";
import { readServerGroupRc, selectors, serverGroupNotFound } from "./ownership.js";
import { managedNamespace } from "./scope.js";
import type { ServerGroup, ServerGroupRef } from "./spec.js";
import { serverGroupView } from "./view.js";

/** "view": from the watch-fed view, never older than this replica's writes; "strong": one live read. */
export type Consistency = "view" | "strong";

/**
 * One server group with its pods; NOT_FOUND naming it when absent. Served
 * from the namespace's view when it is ready and has caught up with this
 * replica's writes, else (and for "strong") read from the API server.
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

/** The same, for an account already resolved. */
export async function readServerGroup(account: Account, ref: ServerGroupRef, opts?: KubeCallOptions): Promise<ServerGroup> {
  const [rc, pods] = await Promise.all([
    readServerGroupRc(account, ref, opts),
    listPods(account.kube, ref.namespace, selectors.podsOf(ref.name), opts),
  ]);
  return serverGroupView(ref.account, rc, pods);
}

/** The view of an RC already read: only its pods are fetched. */
export async function viewWithPods(account: Account, rc: V1ReplicationController, opts?: KubeCallOptions): Promise<ServerGroup> {
  const pods = await listPods(account.kube, rc.metadata!.namespace!, selectors.podsOf(rc.metadata!.name!), opts);
  return serverGroupView(account.name, rc, pods);
}
