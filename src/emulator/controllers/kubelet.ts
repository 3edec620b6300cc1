import type { Writer } from "../managed-fields.js";
import type { Store, StoreEvent } from "../store.js";
import type { EventRecorder } from "./events.js";
import { WorkQueue, splitKey } from "./queue.js";

type Json = Record<string, any>;

/** The real control plane's fake nodes are KWOK's, whose status writes carry its name. */
const kwok: Writer = { manager: "kwok", subresource: "status" };

/**
 * A stand-in for the scheduler and kubelet, like KWOK's fake nodes: every new
 * pod is bound to one node (with the scheduler's Scheduled event) and
 * reported Running and Ready, with a pod IP.
 */
export function startFakeKubelet(store: Store, events: EventRecorder, nodeName = "emulator-node"): () => void {
  let nextIp = 2;
  const queue = new WorkQueue((key) => {
    const [namespace, name] = splitKey(key);
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const condition = (type: string) => ({ type, status: "True", lastProbeTime: null, lastTransitionTime: now });
    let bound = false;
    // The scheduler's binding: not a field manager's write, so nobody owns nodeName or PodScheduled.
    store.mutate("pods", namespace, name, (pod) => {
      if ((pod.status as Json)?.phase !== "Pending" || pod.metadata.deletionTimestamp || (pod.spec as Json).nodeName) return;
      (pod.spec as Json).nodeName = nodeName;
      (pod.status as Json).conditions = [condition("PodScheduled")];
      bound = true;
    });
    const pod = store.mutate("pods", namespace, name, (pod) => {
      if ((pod.status as Json)?.phase !== "Pending" || pod.metadata.deletionTimestamp) return;
      const spec = pod.spec as Json;
      const ip = `10.244.${Math.floor(nextIp / 250)}.${(nextIp++ % 250) + 2}`;
      pod.status = {
        ...(pod.status as Json),
        phase: "Running",
        hostIP: "10.0.0.1",
        hostIPs: [{ ip: "10.0.0.1" }],
        podIP: ip,
        podIPs: [{ ip }],
        startTime: now,
        conditions: [...["Initialized", "Ready", "ContainersReady"].map(condition), ...((pod.status as Json).conditions ?? [])],
        containerStatuses: (spec.containers ?? []).map((c: Json) => ({
          name: c.name,
          image: c.image,
          imageID: "",
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: now } },
        })),
      };
    }, kwok);
    if (bound && pod) events.structured({ ...pod, kind: "Pod" }, "default-scheduler", "Binding", "Scheduled", `Successfully assigned ${namespace}/${name} to ${nodeName}`);
  });
  const onChange = (e: StoreEvent) => {
    if (e.resource === "pods" && e.type === "ADDED") queue.add(`${e.object.metadata.namespace}/${e.object.metadata.name}`);
  };
  store.events.on("change", onChange);
  return () => {
    queue.stop();
    store.events.off("change", onChange);
  };
}
