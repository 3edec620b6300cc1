import type { V1ReplicationController } from "@kubernetes/client-node";
import { isNotFound, type NotFoundError } from "../../common/errors.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { readReplicationController } from "../../kube/replication-controllers.js";
import type { Account } from "../accounts/account.js";
import { isOurs, labelKeys, markOurs } from "../shared/ownership.js";
import { notFound, type ObjectRef } from "../shared/refs.js";
import { skippedObject } from "../../observability/skipped-objects.js";
import { replicationControllerKind } from "../../kube/replication-controllers.js";
import { hasUnreadableSpec, storedSpec } from "./stored-spec.js";

/**
 * A ReplicationController that is a server group: kubedriver's, with the
 * spec it was asked for; its selector; and the one read of "this RC,
 * provided it is ours".
 */
export function isServerGroup(rc: V1ReplicationController): boolean {
  return isOurs(rc) && storedSpec(rc) !== undefined;
}

/** The selector the RC itself uses: identity only, never the load-balancer labels that enable/disable flip. */
export function rcSelector(name: string): Record<string, string> {
  return markOurs({ [labelKeys.serverGroup]: name });
}

/** Reports an RC of kubedriver's whose spec cannot be read: it is left out of every read. */
export function unreadableSpec(account: string, rc: V1ReplicationController): void {
  skippedObject({
    account,
    kind: replicationControllerKind.name,
    namespace: rc.metadata?.namespace,
    name: rc.metadata?.name,
    reason: "unreadable_spec",
    detail: `its kubedriver.io/spec annotation is not a server group's spec (edited by hand?); it is not shown as a server group`,
  });
}

export function serverGroupNotFound(ref: ObjectRef, cause?: unknown, why = ""): NotFoundError {
  return notFound("server group", ref, { cause, why });
}

/** Only ReplicationControllers kubedriver created are server groups. */
export function requireServerGroup(rc: V1ReplicationController, ref: ObjectRef): void {
  if (isServerGroup(rc)) return;
  const unreadable = isOurs(rc) && hasUnreadableSpec(rc);
  if (unreadable) unreadableSpec(ref.account, rc);
  const why = unreadable ? "its kubedriver.io/spec annotation cannot be read (edited by hand?)" : "kubedriver did not create it";
  throw serverGroupNotFound(ref, undefined, ` (a ReplicationController of that name exists, but ${why})`);
}

/** The server group's RC: NOT_FOUND naming it when absent or not kubedriver's. */
export async function readServerGroupRc(account: Account, ref: ObjectRef, opts?: KubeCallOptions): Promise<V1ReplicationController> {
  const rc = await readReplicationController(account.kube, ref.namespace, ref.name, opts).catch((err: unknown) => {
    throw isNotFound(err) ? serverGroupNotFound(ref, err) : err;
  });
  requireServerGroup(rc, ref);
  return rc;
}
