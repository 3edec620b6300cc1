import type { Writer } from "../managed-fields.js";
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
  const create = (involved: KubeObject, fields: Record<string, unknown>, writer?: Writer, managedFields?: unknown[]) => {
    // Real Event names are the object's name and the time in nanoseconds, in hex.
    const suffix = (BigInt(Date.now()) * 1_000_000n + BigInt(sequence++ % 1_000_000)).toString(16);
    const { namespace, name, uid, resourceVersion } = involved.metadata;
    try {
      store.create("events", {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name: `${name}.${suffix}`, namespace, ...(managedFields ? { managedFields } : {}) },
        involvedObject: { apiVersion: "v1", kind: involved.kind, name, namespace, resourceVersion, uid },
        type: "Normal",
        ...fields,
      }, writer);
    } catch {
      // Events are best effort, as in a cluster.
    }
  };
  return {
    legacy(involved, component, reason, message) {
      const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      create(
        involved,
        { reason, message, source: { component }, count: 1, firstTimestamp: now, lastTimestamp: now, eventTime: null, reportingComponent: component, reportingInstance: "" },
        { manager: "kube-controller-manager" },
      );
    },
    structured(involved, component, action, reason, message) {
      const eventTime = new Date().toISOString().replace(/Z$/, "000Z");
      // Written through events.k8s.io/v1, which the emulator does not serve, so its fields are spelled out in that version's names.
      const fieldsV1 = Object.fromEntries(["action", "eventTime", "note", "reason", "regarding", "reportingController", "reportingInstance", "type"].map((f) => [`f:${f}`, {}]));
      const managedFields = [{ manager: "kube-scheduler", operation: "Update", apiVersion: "events.k8s.io/v1", time: eventTime.replace(/\.\d+Z$/, "Z"), fieldsType: "FieldsV1", fieldsV1 }];
      create(
        involved,
        { action, reason, message, source: {}, eventTime, firstTimestamp: null, lastTimestamp: null, reportingComponent: component, reportingInstance: `${component}-${host}` },
        undefined,
        managedFields,
      );
    },
  };
}
