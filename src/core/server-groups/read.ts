import type { Account } from "../accounts/account.js";
import type { AccountRegistry } from "../accounts/registry.js";
import type { V1ReplicationController } from "@kubernetes/client-node";
import type { KubeCallOptions } from "../../kube/client.js";
import { listPods } from "../../kube/pods.js";
import { findAutoscaler, policyOf } from "../autoscalers/ownership.js";
import { readServerGroupRc, selectors } from "./ownership.js";
import { managedNamespace } from "./scope.js";
import type { ServerGroup, ServerGroupRef } from "./spec.js";
import { serverGroupView } from "./view.js";

/** One server group with its pods; NOT_FOUND naming it when absent. */
export async function getServerGroup(registry: AccountRegistry, ref: ServerGroupRef, opts?: KubeCallOptions): Promise<ServerGroup> {
  return readServerGroup(managedNamespace(registry, ref.account, ref.namespace), ref, opts);
}

/** The same, for an account already resolved. */
export async function readServerGroup(account: Account, ref: ServerGroupRef, opts?: KubeCallOptions): Promise<ServerGroup> {
  const [rc, pods, hpa] = await Promise.all([
    readServerGroupRc(account, ref, opts),
    listPods(account.kube, ref.namespace, selectors.podsOf(ref.name), opts),
    findAutoscaler(account, ref, opts),
  ]);
  return serverGroupView(ref.account, rc, pods, hpa && policyOf(hpa));
}

/** The view of an RC already read: only its pods are fetched. */
export async function viewWithPods(account: Account, rc: V1ReplicationController, opts?: KubeCallOptions): Promise<ServerGroup> {
  const ref = { account: account.name, namespace: rc.metadata!.namespace!, name: rc.metadata!.name! };
  const [pods, hpa] = await Promise.all([listPods(account.kube, ref.namespace, selectors.podsOf(ref.name), opts), findAutoscaler(account, ref, opts)]);
  return serverGroupView(account.name, rc, pods, hpa && policyOf(hpa));
}
