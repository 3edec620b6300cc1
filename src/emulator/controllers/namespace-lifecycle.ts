import type { Store, StoreEvent } from "../store.js";
import { WorkQueue } from "./queue.js";

/**
 * The namespace controller: a namespace marked for deletion (Terminating) has
 * its content deleted; objects held by finalizers are marked for deletion and
 * keep the namespace Terminating until their finalizers are removed; then the
 * namespace goes.
 */
export function startNamespaceLifecycle(store: Store, namespacedResources: string[]): () => void {
  const queue = new WorkQueue((name) => {
    const ns = store.get("namespaces", undefined, name);
    if (!ns?.metadata.deletionTimestamp) return;
    let remaining = 0;
    for (const res of namespacedResources) {
      for (const obj of store.list(res, name)) {
        if (obj.metadata.finalizers?.length) {
          remaining++;
          store.mutate(res, name, obj.metadata.name, (o) => {
            o.metadata.deletionTimestamp ??= ns.metadata.deletionTimestamp;
          });
          continue;
        }
        try {
          store.remove(res, name, obj.metadata.name);
        } catch {
          // Removed meanwhile.
        }
      }
    }
    if (remaining === 0) store.remove("namespaces", undefined, name);
  });
  const onChange = (e: StoreEvent) => {
    const { metadata } = e.object;
    if (e.resource === "namespaces" && e.type === "MODIFIED" && metadata.deletionTimestamp) queue.add(metadata.name);
    if (e.resource !== "namespaces" && metadata.namespace && store.get("namespaces", undefined, metadata.namespace)?.metadata.deletionTimestamp) {
      queue.add(metadata.namespace);
    }
  };
  store.events.on("change", onChange);
  return () => {
    queue.stop();
    store.events.off("change", onChange);
  };
}
