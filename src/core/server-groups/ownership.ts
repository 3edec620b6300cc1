import type { V1ReplicationController } from "@kubernetes/client-node";
import { isNotFound, type NotFoundError } from "../../common/errors.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { readReplicationController } from "../../kube/replication-controllers.js";
import type { Account } from "../accounts/account.js";
import { annotationKeys, isOurs, labelKeys, markOurs } from "../shared/ownership.js";
import { notFound, type ObjectRef } from "../shared/refs.js";

/**
 * A ReplicationController that is a server group: kubedriver's, with the
 * spec it was asked for; its selector; and the one read of "this RC,
 * provided it is ours".
 */
export function isServerGroup(rc: V1ReplicationController): boolean {
  return isOurs(rc) && Boolean(rc.metadata?.annotations?.[annotationKeys.spec]);
}

/** The selector the RC itself uses: identity only, never the load-balancer labels that enable/disable flip. */
export function rcSelector(name: string): Record<string, string> {
  return markOurs({ [labelKeys.serverGroup]: name });
}

export function serverGroupNotFound(ref: ObjectRef, cause?: unknown, why = ""): NotFoundError {
  return notFound("server group", ref, { cause, why });
}

/** Only ReplicationControllers kubedriver created are server groups. */
export function requireServerGroup(rc: V1ReplicationController, ref: ObjectRef): void {
  if (!isServerGroup(rc)) {
    throw serverGroupNotFound(ref, undefined, " (a ReplicationController of that name exists, but kubedriver did not create it)");
  }
}

/** The server group's RC: NOT_FOUND naming it when absent or not kubedriver's. */
export async function readServerGroupRc(account: Account, ref: ObjectRef, opts?: KubeCallOptions): Promise<V1ReplicationController> {
  const rc = await readReplicationController(account.kube, ref.namespace, ref.name, opts).catch((err: unknown) => {
    throw isNotFound(err) ? serverGroupNotFound(ref, err) : err;
  });
  requireServerGroup(rc, ref);
  return rc;
}
