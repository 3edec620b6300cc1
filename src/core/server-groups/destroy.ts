import type { AccountRegistry } from "../accounts/registry.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { deleteReplicationController, readReplicationController } from "../../kube/replication-controllers.js";
import { isNotFound } from "../errors.js";
import { notFound } from "./read.js";
import { managedNamespace } from "./scope.js";
import type { ServerGroupRef } from "./spec.js";
import { requireServerGroup } from "./view.js";

/** Deletes the RC and its pods (foreground cascade); NOT_FOUND when there is no such server group. */
export async function destroyServerGroup(registry: AccountRegistry, ref: ServerGroupRef, opts?: KubeCallOptions): Promise<void> {
  const account = managedNamespace(registry, ref.account, ref.namespace);
  const toNotFound = (err: unknown) => {
    throw isNotFound(err) ? notFound(ref, err) : err;
  };
  const rc = await readReplicationController(account.kube, ref.namespace, ref.name, opts).catch(toNotFound);
  requireServerGroup(rc, ref.account, ref.namespace, ref.name);
  await deleteReplicationController(account.kube, ref.namespace, ref.name, opts).catch(toNotFound);
}
