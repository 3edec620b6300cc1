import { createHash } from "node:crypto";
import type { Account } from "../accounts/account.js";
import type { AccountRegistry } from "../accounts/registry.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { deleteReplicationController, readReplicationController } from "../../kube/replication-controllers.js";
import { createSecret, deleteSecret, listSecrets, readSecret } from "../../kube/secrets.js";
import { isAlreadyExists, isNotFound } from "../../common/errors.js";
import { labelKeys, managedByLabel } from "./labels.js";
import { notFound } from "./read.js";
import { managedNamespace } from "./scope.js";
import type { ServerGroupRef } from "./spec.js";
import { requireServerGroup } from "./view.js";

/** Tombstones outlive any sensible retry window, then go. */
const tombstoneLifetimeMs = 24 * 60 * 60 * 1000;
const tombstoneLabel = "kubedriver.io/destroy-tombstone";

/**
 * Deletes the RC and its pods (foreground cascade); NOT_FOUND when there is
 * no such server group. With a request id, a tombstone Secret recorded before
 * the delete lets a retry that finds the group gone answer as the first call
 * did, on any kubedriver replica.
 */
export async function destroyServerGroup(
  registry: AccountRegistry,
  ref: ServerGroupRef,
  requestId: string | undefined,
  opts?: KubeCallOptions,
): Promise<void> {
  const account = managedNamespace(registry, ref.account, ref.namespace);
  const rc = await readReplicationController(account.kube, ref.namespace, ref.name, opts).catch(async (err: unknown) => {
    if (isNotFound(err) && requestId && (await destroyedBy(account, ref, requestId, opts))) return undefined;
    throw isNotFound(err) ? notFound(ref, err) : err;
  });
  if (!rc) return;
  requireServerGroup(rc, ref.account, ref.namespace, ref.name);
  if (requestId) await recordTombstone(account, ref, requestId, opts);
  await deleteReplicationController(account.kube, ref.namespace, ref.name, opts).catch((err: unknown) => {
    throw isNotFound(err) ? notFound(ref, err) : err;
  });
  await removeExpiredTombstones(account, ref.namespace, opts);
}

function tombstoneName(requestId: string): string {
  return `kubedriver-destroyed-${createHash("sha256").update(requestId).digest("hex").slice(0, 24)}`;
}

async function destroyedBy(account: Account, ref: ServerGroupRef, requestId: string, opts?: KubeCallOptions): Promise<boolean> {
  const tombstone = await readSecret(account.kube, ref.namespace, tombstoneName(requestId), opts).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  return tombstone?.metadata?.labels?.[labelKeys.serverGroup] === ref.name;
}

async function recordTombstone(account: Account, ref: ServerGroupRef, requestId: string, opts?: KubeCallOptions): Promise<void> {
  await createSecret(
    account.kube,
    ref.namespace,
    {
      metadata: {
        name: tombstoneName(requestId),
        labels: { [managedByLabel.key]: managedByLabel.value, [tombstoneLabel]: "true", [labelKeys.serverGroup]: ref.name },
      },
      type: "Opaque",
    },
    opts,
  ).catch((err: unknown) => {
    if (!isAlreadyExists(err)) throw err;
  });
}

/** Best effort: a tombstone left behind only costs a small object until the next destroy. */
async function removeExpiredTombstones(account: Account, namespace: string, opts?: KubeCallOptions): Promise<void> {
  try {
    const tombstones = await listSecrets(account.kube, namespace, `${tombstoneLabel}=true`, opts);
    const expired = tombstones.filter((s) => Date.now() - new Date(s.metadata?.creationTimestamp ?? Date.now()).getTime() > tombstoneLifetimeMs);
    await Promise.all(expired.map((s) => deleteSecret(account.kube, namespace, s.metadata!.name!, opts)));
  } catch {
    // The group is destroyed either way; the next destroy tries again.
  }
}
