import { randomBytes } from "node:crypto";
import type { KubeObject, Store, StoreEvent } from "../store.js";
import type { EventRecorder } from "./events.js";
import { WorkQueue, splitKey } from "./queue.js";

type Json = Record<string, any>;

/**
 * The ReplicationController loop: creates and deletes pods to match
 * `spec.replicas`, owning them through an ownerReference, and keeps the RC's
 * status (replicas, ready, available, observedGeneration) current.
 */
export function startReplicationController(store: Store, createPod: (pod: KubeObject) => boolean, events: EventRecorder): () => void {
  const queue = new WorkQueue((key) => {
    const [namespace, name] = splitKey(key);
    const rc = store.get("replicationcontrollers", namespace, name);
    if (rc) reconcile(rc);
  });

  const onChange = (e: StoreEvent) => {
    if (e.resource === "replicationcontrollers" && e.type !== "DELETED") {
      queue.add(`${e.object.metadata.namespace}/${e.object.metadata.name}`);
    }
    if (e.resource === "pods") {
      const owner = e.object.metadata.ownerReferences?.find((o) => o.controller && o.kind === "ReplicationController");
      if (owner) queue.add(`${e.object.metadata.namespace}/${owner.name}`);
    }
  };
  store.events.on("change", onChange);

  function reconcile(rc: KubeObject): void {
    const spec = rc.spec as Json;
    const namespace = rc.metadata.namespace!;
    const controlled = (p: KubeObject) => p.metadata.ownerReferences?.some((o) => o.uid === rc.metadata.uid && o.controller) ?? false;
    const owned = store.list("pods", namespace, controlled);
    const active = owned.filter((p) => !p.metadata.deletionTimestamp && !["Succeeded", "Failed"].includes((p.status as Json)?.phase));
    const deleting = rc.metadata.deletionTimestamp !== undefined;
    const want = deleting ? active.length : (spec.replicas as number);

    if (!deleting && active.length < want) {
      for (let i = active.length; i < want; i++) {
        const pod = podFor(rc);
        if (createPod(pod)) events.legacy(rc, "replication-controller", "SuccessfulCreate", `Created pod: ${pod.metadata.name}`);
      }
    } else if (!deleting && active.length > want) {
      // Like the real controller: remove not-ready and newest pods first.
      const victims = [...active]
        .sort((a, b) => rank(a) - rank(b) || String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)))
        .slice(0, active.length - want);
      for (const p of victims) {
        try {
          store.remove("pods", namespace, p.metadata.name);
          events.legacy(rc, "replication-controller", "SuccessfulDelete", `Deleted pod: ${p.metadata.name}`);
        } catch {
          // Already gone: the next event reconciles again.
        }
      }
    }

    const current = store.list("pods", namespace, (p) => controlled(p) && !p.metadata.deletionTimestamp);
    const ready = current.filter(isReady).length;
    store.mutate("replicationcontrollers", namespace, rc.metadata.name, (o) => {
      const labelsMatch = current.filter((p) =>
        Object.entries((o.spec as Json).template?.metadata?.labels ?? {}).every(([k, v]) => p.metadata.labels?.[k] === v),
      ).length;
      const status: Json = { replicas: current.length, observedGeneration: o.metadata.generation };
      if (labelsMatch > 0) status.fullyLabeledReplicas = labelsMatch;
      if (ready > 0) {
        status.readyReplicas = ready;
        status.availableReplicas = ready;
      }
      o.status = status;
    }, { manager: "kube-controller-manager", subresource: "status" });
  }

  return () => {
    queue.stop();
    store.events.off("change", onChange);
  };
}

function podFor(rc: KubeObject): KubeObject {
  const template = structuredClone((rc.spec as Json).template ?? {});
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      ...(template.metadata ?? {}),
      name: `${rc.metadata.name}-${randomBytes(3).toString("hex").slice(0, 5)}`,
      generateName: `${rc.metadata.name}-`,
      namespace: rc.metadata.namespace,
      ownerReferences: [
        {
          apiVersion: "v1",
          kind: "ReplicationController",
          name: rc.metadata.name,
          uid: rc.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: template.spec ?? {},
  };
}

function isReady(pod: KubeObject): boolean {
  return ((pod.status as Json)?.conditions ?? []).some((c: Json) => c.type === "Ready" && c.status === "True");
}

function rank(pod: KubeObject): number {
  const phase = (pod.status as Json)?.phase;
  if (!(pod.spec as Json)?.nodeName) return 0;
  if (phase === "Pending") return 1;
  return isReady(pod) ? 3 : 2;
}
