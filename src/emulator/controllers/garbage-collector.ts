import type { Writer } from "../managed-fields.js";
import type { KubeObject, Store, StoreEvent } from "../store.js";
import { WorkQueue, splitKey } from "./queue.js";

const gc: Writer = { manager: "kube-controller-manager" };

/**
 * Deletes dependents whose owner is gone (background), finishes foreground
 * deletions (an owner marked with the `foregroundDeletion` finalizer is
 * removed once none of its blocking dependents is left) and orphaning ones
 * (the `orphan` finalizer: dependents lose their ownerReference to the owner,
 * then the finalizer goes, and with the last finalizer the owner).
 */
export function startGarbageCollector(store: Store, dependentResources: string[]): () => void {
  const queue = new WorkQueue((key) => {
    const [resource, rest] = splitKey(key);
    const [namespace, name] = splitKey(rest);
    const owner = store.get(resource, namespace, name);
    if (!owner) return;
    if (owner.metadata.deletionTimestamp && owner.metadata.finalizers?.includes("orphan")) {
      orphanDependentsOf(owner);
      const rest = owner.metadata.finalizers.filter((f) => f !== "orphan");
      if (rest.length === 0) store.remove(resource, namespace, name);
      else store.mutate(resource, namespace, name, (o) => void (o.metadata.finalizers = rest), gc);
      return;
    }
    if (!owner.metadata.finalizers?.includes("foregroundDeletion")) return;
    const dependents = dependentsOf(owner);
    for (const [res, d] of dependents) removeQuietly(res, d);
    if (dependentsOf(owner).length === 0) store.remove(resource, namespace, name);
  });

  function dependentsOf(owner: KubeObject): [string, KubeObject][] {
    return dependentResources.flatMap((res) =>
      store
        .list(res, owner.metadata.namespace, (d) => d.metadata.ownerReferences?.some((o) => o.uid === owner.metadata.uid) ?? false)
        .map((d) => [res, d] as [string, KubeObject]),
    );
  }

  function orphanDependentsOf(owner: KubeObject): void {
    for (const [res, d] of dependentsOf(owner)) {
      store.mutate(res, d.metadata.namespace, d.metadata.name, (o) => {
        o.metadata.ownerReferences = o.metadata.ownerReferences?.filter((r) => r.uid !== owner.metadata.uid);
        if (o.metadata.ownerReferences?.length === 0) delete o.metadata.ownerReferences;
      }, gc);
    }
  }

  function removeQuietly(resource: string, obj: KubeObject): void {
    try {
      store.remove(resource, obj.metadata.namespace, obj.metadata.name);
    } catch {
      // Removed by someone else in the meantime.
    }
  }

  const onChange = (e: StoreEvent) => {
    const { metadata } = e.object;
    if (e.type === "DELETED") {
      // Background cascade: dependents of a removed owner go too.
      for (const res of dependentResources) {
        for (const d of store.list(res, metadata.namespace, (o) => o.metadata.ownerReferences?.some((r) => r.uid === metadata.uid) ?? false)) {
          removeQuietly(res, d);
        }
      }
      const owner = metadata.ownerReferences?.find((o) => o.blockOwnerDeletion);
      if (owner && metadata.namespace) queue.add(`${resourceOfKind(owner.kind)}/${metadata.namespace}/${owner.name}`);
      return;
    }
    if (metadata.finalizers?.includes("foregroundDeletion") || (metadata.deletionTimestamp && metadata.finalizers?.includes("orphan"))) queue.add(`${e.resource}/${metadata.namespace}/${metadata.name}`);
  };
  store.events.on("change", onChange);
  return () => {
    queue.stop();
    store.events.off("change", onChange);
  };
}

function resourceOfKind(kind: string): string {
  return kind === "ReplicationController" ? "replicationcontrollers" : `${kind.toLowerCase()}s`;
}
