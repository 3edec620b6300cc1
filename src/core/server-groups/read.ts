import type { V1ReplicationController } from "@kubernetes/client-node";
import type { KubeCallOptions } from "../../kube/client.js";
import { list } from "../../kube/kinds.js";
import { podKind } from "../../kube/pods.js";
import type { Account } from "../accounts/account.js";
import { readThrough, type Consistency } from "../shared/consistency.js";
import { findAutoscaler, policyOf } from "../shared/hpa.js";
import { selectors } from "../shared/ownership.js";
import { managedNamespace } from "../shared/scope.js";
import type { LiveViews } from "./live-views.js";
import { readServerGroupRc, serverGroupNotFound } from "./ownership.js";
import type { ServerGroup, ServerGroupRef } from "./spec.js";
import { serverGroupView } from "./view.js";

/** Where a server-group read may be served from: the namespaces' views, unless the caller asks for a live read. */
export interface ReadFrom {
  views: LiveViews;
  consistency?: Consistency;
}

/**
 * One server group with its pods and autoscaler; NOT_FOUND naming it when
 * absent. Served from the namespace's view when it is ready and has caught
 * up with this replica's writes, else (and for "strong") read from the API
 * server.
 */
export function getServerGroup(account: Account, ref: ServerGroupRef, from: ReadFrom, opts?: KubeCallOptions): Promise<ServerGroup> {
  managedNamespace(account, ref.namespace);
  return readThrough(from.consistency, [from.views.view(ref.account, ref.namespace)], opts, {
    fromViews: ([view]) => view.get(ref.name) ?? Promise.reject(serverGroupNotFound(ref)),
    live: () => readServerGroup(account, ref, opts),
  });
}

/** The same, live. */
export async function readServerGroup(account: Account, ref: ServerGroupRef, opts?: KubeCallOptions): Promise<ServerGroup> {
  const [rc, pods, hpa] = await Promise.all([
    readServerGroupRc(account, ref, opts),
    list(account.kube, podKind, ref.namespace, selectors.podsOf(ref.name), opts),
    findAutoscaler(account, ref, opts),
  ]);
  return serverGroupView(ref.account, rc, pods, hpa && policyOf(hpa));
}

/** The view of an RC already read: only its pods and autoscaler are fetched. */
export async function viewWithPods(account: Account, rc: V1ReplicationController, opts?: KubeCallOptions): Promise<ServerGroup> {
  const ref = { account: account.name, namespace: rc.metadata!.namespace!, name: rc.metadata!.name! };
  const [pods, hpa] = await Promise.all([list(account.kube, podKind, ref.namespace, selectors.podsOf(ref.name), opts), findAutoscaler(account, ref, opts)]);
  return serverGroupView(account.name, rc, pods, hpa && policyOf(hpa));
}

/**
 * The group a mutation is about to change: from the view when it has caught
 * up and holds the group, else live (a group the view does not hold may
 * have been created by another replica a moment ago, or exist without
 * being kubedriver's: the live read tells, and names it in NOT_FOUND).
 * Mutations write what they were asked whatever this read says, so a view a
 * moment behind another replica's write never turns a change into a no-op.
 */
export function groupToChange(account: Account, ref: ServerGroupRef, views: LiveViews, opts?: KubeCallOptions): Promise<ServerGroup> {
  return readThrough("view", [views.view(ref.account, ref.namespace)], opts, {
    fromViews: ([view]) => view.get(ref.name) ?? readServerGroup(account, ref, opts),
    live: () => readServerGroup(account, ref, opts),
  });
}
