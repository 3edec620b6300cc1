import type { KubeObject, Store } from "../store.js";

/** Records Events about objects, in the two shapes real controllers write. */
export interface EventRecorder {
  /** A core/v1 Event, as the controller-manager's controllers write them (count, first/lastTimestamp, source). */
  legacy(involved: KubeObject, component: string, reason: string, message: string): void;
  /** An events.k8s.io Event read through core/v1, as the scheduler writes them (eventTime, action, reportingInstance). */
  structured(involved: KubeObject, component: string, action: string, reason: string, message: string): void;
}

export function eventRecorder(store: Store, host = "emulator"): EventRecorder {
  let sequence = 0;
  const create = (involved: KubeObject, fields: Record<string, unknown>) => {
    // Real Event names are the object's name and the time in nanoseconds, in hex.
    const suffix = (BigInt(Date.now()) * 1_000_000n + BigInt(sequence++ % 1_000_000)).toString(16);
    const { namespace, name, uid, resourceVersion } = involved.metadata;
    try {
      store.create("events", {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name: `${name}.${suffix}`, namespace },
        involvedObject: { apiVersion: "v1", kind: involved.kind, name, namespace, resourceVersion, uid },
        type: "Normal",
        ...fields,
      });
    } catch {
      // Events are best effort, as in a cluster.
    }
  };
  return {
    legacy(involved, component, reason, message) {
      const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      create(involved, { reason, message, source: { component }, count: 1, firstTimestamp: now, lastTimestamp: now, eventTime: null, reportingComponent: component, reportingInstance: "" });
    },
    structured(involved, component, action, reason, message) {
      const eventTime = new Date().toISOString().replace(/Z$/, "000Z");
      create(involved, { action, reason, message, source: {}, eventTime, firstTimestamp: null, lastTimestamp: null, reportingComponent: component, reportingInstance: `${component}-${host}` });
    },
  };
}
