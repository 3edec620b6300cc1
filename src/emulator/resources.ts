import { allocateService, defaultNamespace, defaultPod, defaultReplicationController, defaultSecret, defaultService, prepareNamespace } from "./defaults.js";
import type { KubeObject } from "./store.js";
import { invalid, invalidCause, requiredCause, type StatusCause } from "./status.js";
import { validateLabels, validateMetadataName, validatePodSpec, type NameRule } from "./validation.js";

/** What the emulator knows of each core/v1 resource it serves. */
export interface ResourceType {
  /** Plural name in URLs, e.g. `replicationcontrollers`. */
  name: string;
  /** `v1` (the core group, under /api/v1) or `group/version` (under /apis). */
  apiVersion: string;
  kind: string;
  singular: string;
  shortNames: string[];
  /** Discovery categories (`kubectl get all` lists the resources of category `all`). */
  categories: string[];
  namespaced: boolean;
  nameRule: NameRule;
  /** The propagation policy of a DELETE that names none (core/v1 RCs orphan their pods, for backward compatibility). */
  defaultPropagation: "Orphan" | "Background";
  /** Whether a finished DELETE answers with the deleted object (its store's ReturnDeletedObject) rather than a Status. */
  returnsDeletedObject: boolean;
  /** Whether `metadata.generation` follows spec changes. */
  tracksGeneration: boolean;
  subresources: string[];
  /** Field selectors beyond metadata.name and metadata.namespace. */
  fieldSelectors: string[];
  /** What an empty object of the kind serialises to beside metadata (the body of a watch bookmark). */
  emptyShape: Record<string, unknown>;
  /** Applies the API server's defaults to a new or updated object, as decoding does (its writer owns them). */
  defaults(obj: KubeObject): void;
  /** What the server sets after that, on create and on update of `current` (no field manager owns it); `allocateIP` keeps an updated service's address. */
  prepare(obj: KubeObject, ctx: { allocateIP(): string; current?: KubeObject }): void;
  /** Kind-specific validation; metadata.name and labels are checked for every kind. */
  validate(obj: KubeObject, causes: StatusCause[]): void;
}

const noop = () => {};

const eventFields = ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"];

export const resourceTypes: ResourceType[] = [
  {
    name: "namespaces",
    apiVersion: "v1",
    kind: "Namespace",
    singular: "namespace",
    shortNames: ["ns"],
    categories: [],
    namespaced: false,
    nameRule: "dns1123-label",
    defaultPropagation: "Background",
    returnsDeletedObject: true,
    tracksGeneration: false,
    subresources: [],
    fieldSelectors: ["status.phase"],
    emptyShape: { spec: {}, status: {} },
    defaults: (o) => defaultNamespace(o),
    prepare: (o, ctx) => prepareNamespace(o, ctx.current),
    validate: noop,
  },
  {
    name: "secrets",
    apiVersion: "v1",
    kind: "Secret",
    singular: "secret",
    shortNames: [],
    categories: [],
    namespaced: true,
    nameRule: "dns1123-subdomain",
    defaultPropagation: "Background",
    returnsDeletedObject: false,
    tracksGeneration: false,
    subresources: [],
    fieldSelectors: ["type"],
    emptyShape: {},
    defaults: (o) => defaultSecret(o),
    prepare: noop,
    validate: (o, causes) => {
      for (const [k, v] of Object.entries((o.data as Record<string, unknown>) ?? {})) {
        if (typeof v !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) causes.push(invalidCause(`data[${k}]`, "<secret contents redacted>", "illegal base64 data"));
      }
      if (o.type === "kubernetes.io/dockerconfigjson" && !(o.data as Record<string, string> | undefined)?.[".dockerconfigjson"]) {
        causes.push({ reason: "FieldValueRequired", message: "Required value", field: "data[.dockerconfigjson]" });
      }
    },
  },
  {
    name: "replicationcontrollers",
    apiVersion: "v1",
    kind: "ReplicationController",
    singular: "replicationcontroller",
    shortNames: ["rc"],
    categories: ["all"],
    namespaced: true,
    nameRule: "dns1123-subdomain",
    defaultPropagation: "Orphan",
    returnsDeletedObject: false,
    tracksGeneration: true,
    subresources: ["scale", "status"],
    fieldSelectors: ["status.replicas"],
    emptyShape: { spec: {}, status: { replicas: 0 } },
    defaults: (o) => defaultReplicationController(o),
    prepare: noop,
    validate: (o, causes) => {
      const spec = (o.spec ?? {}) as { replicas?: number; selector?: Record<string, string>; template?: any };
      if ((spec.replicas ?? 0) < 0) causes.push(invalidCause("spec.replicas", spec.replicas, "must be greater than or equal to 0"));
      if (!spec.selector || Object.keys(spec.selector).length === 0) causes.push({ reason: "FieldValueRequired", message: "Required value", field: "spec.selector" });
      if (!spec.template) {
        causes.push({ reason: "FieldValueRequired", message: "Required value", field: "spec.template" });
        return;
      }
      const templateLabels = (spec.template.metadata?.labels ?? {}) as Record<string, string>;
      const matches = Object.entries(spec.selector ?? {}).every(([k, v]) => templateLabels[k] === v);
      if (!matches) causes.push(invalidCause("spec.template.metadata.labels", templateLabels, "`selector` does not match template `labels`"));
      validateLabels(templateLabels, "spec.template.labels", causes);
      validatePodSpec(spec.template.spec, "spec.template.spec", causes);
    },
  },
  {
    name: "pods",
    apiVersion: "v1",
    kind: "Pod",
    singular: "pod",
    shortNames: ["po"],
    categories: ["all"],
    namespaced: true,
    nameRule: "dns1123-subdomain",
    defaultPropagation: "Background",
    returnsDeletedObject: true,
    tracksGeneration: false,
    subresources: ["status", "log"],
    fieldSelectors: ["status.phase", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.podIP", "status.nominatedNodeName"],
    emptyShape: { spec: { containers: null }, status: {} },
    defaults: (o) => defaultPod(o),
    prepare: noop,
    validate: (o, causes) => validatePodSpec(o.spec as { containers?: [] }, "spec", causes),
  },
  {
    name: "services",
    apiVersion: "v1",
    kind: "Service",
    singular: "service",
    shortNames: ["svc"],
    categories: ["all"],
    namespaced: true,
    nameRule: "dns1035-label",
    defaultPropagation: "Background",
    returnsDeletedObject: true,
    tracksGeneration: false,
    subresources: ["status"],
    fieldSelectors: [],
    emptyShape: { spec: {}, status: { loadBalancer: {} } },
    defaults: (o) => defaultService(o),
    prepare: (o, ctx) => allocateService(o, ctx.allocateIP()),
    validate: (o, causes) => {
      const spec = (o.spec ?? {}) as { type?: string; sessionAffinity?: string; ports?: { name?: string; port?: number; nodePort?: number }[] };
      const ports = spec.ports ?? [];
      if (!["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"].includes(spec.type ?? "")) {
        causes.push({ reason: "FieldValueNotSupported", message: `Unsupported value: "${spec.type}"`, field: "spec.type" });
      }
      if (!["None", "ClientIP"].includes(spec.sessionAffinity ?? "")) {
        causes.push({ reason: "FieldValueNotSupported", message: `Unsupported value: "${spec.sessionAffinity}"`, field: "spec.sessionAffinity" });
      }
      if (ports.length === 0 && spec.type !== "ExternalName") causes.push(requiredCause("spec.ports"));
      ports.forEach((p, i) => {
        if (!p.port || p.port < 1 || p.port > 65535) causes.push(invalidCause(`spec.ports[${i}].port`, p.port ?? 0, "must be between 1 and 65535, inclusive"));
        if (ports.length > 1 && !p.name) causes.push(requiredCause(`spec.ports[${i}].name`));
        if (p.nodePort && spec.type === "ClusterIP") causes.push(invalidCause(`spec.ports[${i}].nodePort`, p.nodePort, "may not be used when `type` is 'ClusterIP'"));
      });
    },
  },
  {
    name: "serviceaccounts",
    apiVersion: "v1",
    kind: "ServiceAccount",
    singular: "serviceaccount",
    shortNames: ["sa"],
    categories: [],
    namespaced: true,
    nameRule: "dns1123-subdomain",
    defaultPropagation: "Background",
    returnsDeletedObject: true,
    tracksGeneration: false,
    subresources: [],
    fieldSelectors: [],
    emptyShape: {},
    defaults: noop,
    prepare: noop,
    validate: noop,
  },
  {
    name: "events",
    apiVersion: "v1",
    kind: "Event",
    singular: "event",
    shortNames: ["ev"],
    categories: [],
    namespaced: true,
    nameRule: "dns1123-subdomain",
    defaultPropagation: "Background",
    returnsDeletedObject: false,
    tracksGeneration: false,
    subresources: [],
    fieldSelectors: eventFields,
    emptyShape: { involvedObject: {}, source: {}, firstTimestamp: null, lastTimestamp: null, eventTime: null, reportingComponent: "", reportingInstance: "" },
    defaults: noop,
    prepare: noop,
    validate: noop,
  },
  {
    name: "horizontalpodautoscalers",
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    singular: "horizontalpodautoscaler",
    shortNames: ["hpa"],
    categories: ["all"],
    namespaced: true,
    nameRule: "dns1123-subdomain",
    defaultPropagation: "Background",
    returnsDeletedObject: false,
    tracksGeneration: false,
    subresources: ["status"],
    fieldSelectors: [],
    emptyShape: { spec: {}, status: {} },
    defaults: noop,
    prepare: noop,
    validate: (o, causes) => {
      const spec = (o.spec ?? {}) as { minReplicas?: number; maxReplicas?: number; scaleTargetRef?: { kind?: string; name?: string } };
      if (!spec.scaleTargetRef?.kind) causes.push(requiredCause("spec.scaleTargetRef.kind"));
      if (!spec.scaleTargetRef?.name) causes.push(requiredCause("spec.scaleTargetRef.name"));
      if (spec.minReplicas !== undefined && spec.minReplicas < 1) causes.push(invalidCause("spec.minReplicas", spec.minReplicas, "must be greater than or equal to 1"));
      if (!spec.maxReplicas || spec.maxReplicas < (spec.minReplicas ?? 1)) {
        causes.push(invalidCause("spec.maxReplicas", spec.maxReplicas ?? 0, "must be greater than or equal to `minReplicas`"));
      }
    },
  },
];

export const resourceByName = new Map(resourceTypes.map((r) => [r.name, r]));

/** Validation shared by create and update; throws 422 Invalid with every cause. */
export function validateObject(type: ResourceType, obj: KubeObject): void {
  const causes: StatusCause[] = [];
  validateMetadataName(obj.metadata.name, type.nameRule, causes);
  validateLabels(obj.metadata.labels, "metadata.labels", causes);
  type.validate(obj, causes);
  if (causes.length > 0) throw invalid(type.kind, obj.metadata.name ?? "", causes);
}
