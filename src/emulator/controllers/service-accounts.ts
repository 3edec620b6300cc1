import type { Store, StoreEvent } from "../store.js";

/** The service-account controller: every namespace gets a `default` service account. */
export function startServiceAccounts(store: Store): () => void {
  const onChange = (e: StoreEvent) => {
    if (e.resource !== "namespaces" || e.type !== "ADDED") return;
    const namespace = e.object.metadata.name;
    setImmediate(() => {
      if (store.get("serviceaccounts", namespace, "default") || !store.get("namespaces", undefined, namespace)) return;
      try {
        store.create("serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace } }, { manager: "kube-controller-manager" });
      } catch {
        // Created meanwhile.
      }
    });
  };
  store.events.on("change", onChange);
  return () => store.events.off("change", onChange);
}
