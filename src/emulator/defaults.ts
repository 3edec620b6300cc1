/**
 * The defaulting the real API server applies to what kubedriver creates, so
 * that objects read back from the emulator look like objects read back from a
 * cluster.
 */
type Json = Record<string, any>;

export function defaultPodSpec(spec: Json): void {
  spec.restartPolicy ??= "Always";
  spec.dnsPolicy ??= "ClusterFirst";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ??= "default-scheduler";
  spec.securityContext ??= {};
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const v of spec.volumes ?? []) {
    if (v.configMap) v.configMap.defaultMode ??= 420;
    if (v.secret) v.secret.defaultMode ??= 420;
  }
}

function defaultContainer(c: Json): void {
  c.terminationMessagePath ??= "/dev/termination-log";
  c.terminationMessagePolicy ??= "File";
  c.imagePullPolicy ??= pullPolicyFor(String(c.image ?? ""));
  c.resources ??= {};
  for (const p of c.ports ?? []) p.protocol ??= "TCP";
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
    if (!probe) continue;
    probe.timeoutSeconds ??= 1;
    probe.periodSeconds ??= 10;
    probe.successThreshold ??= 1;
    probe.failureThreshold ??= 3;
    if (probe.httpGet) probe.httpGet.scheme ??= "HTTP";
  }
}

/** `Always` for `:latest` or no tag, else `IfNotPresent` (digests are never re-pulled). */
function pullPolicyFor(image: string): string {
  if (image.includes("@")) return "IfNotPresent";
  const lastPart = image.slice(image.lastIndexOf("/") + 1);
  const tag = lastPart.includes(":") ? lastPart.slice(lastPart.indexOf(":") + 1) : "latest";
  return tag === "latest" ? "Always" : "IfNotPresent";
}

export function defaultReplicationController(rc: Json): void {
  rc.spec ??= {};
  const templateLabels = rc.spec.template?.metadata?.labels;
  if (!rc.spec.selector || Object.keys(rc.spec.selector).length === 0) rc.spec.selector = templateLabels;
  if (!rc.metadata.labels || Object.keys(rc.metadata.labels).length === 0) {
    if (templateLabels) rc.metadata.labels = { ...templateLabels };
  }
  rc.spec.replicas ??= 1;
  if (rc.spec.template) {
    rc.spec.template.metadata ??= {};
    rc.spec.template.spec ??= {};
    defaultPodSpec(rc.spec.template.spec);
  }
}

export function defaultPod(pod: Json): void {
  pod.spec ??= {};
  defaultPodSpec(pod.spec);
  pod.spec.enableServiceLinks ??= true;
}

export function defaultService(svc: Json): void {
  svc.spec ??= {};
  svc.spec.type ??= "ClusterIP";
  svc.spec.sessionAffinity ??= "None";
  svc.spec.internalTrafficPolicy ??= "Cluster";
  for (const p of svc.spec.ports ?? []) {
    p.protocol ??= "TCP";
    p.targetPort ??= p.port;
  }
}

/** What the service REST allocates after defaulting (so no field manager owns it): cluster IPs, IP families, node ports. */
export function allocateService(svc: Json, clusterIP: string): void {
  svc.spec.clusterIP ??= clusterIP;
  svc.spec.clusterIPs ??= [svc.spec.clusterIP];
  svc.spec.ipFamilies ??= ["IPv4"];
  svc.spec.ipFamilyPolicy ??= "SingleStack";
  if (svc.spec.type !== "NodePort" && svc.spec.type !== "LoadBalancer") return;
  for (const p of svc.spec.ports ?? []) p.nodePort ??= allocateNodePort();
}

let nextNodePort = 0;

/** From the default range 30000-32767, as the API server allocates them (without its collision check). */
function allocateNodePort(): number {
  return 30000 + (nextNodePort++ % 2768);
}

export function defaultNamespace(ns: Json): void {
  ns.metadata.labels = { ...ns.metadata.labels, "kubernetes.io/metadata.name": ns.metadata.name };
}

/** The namespace strategy: a new namespace gets the `kubernetes` finalizer, an update keeps the current ones, whatever the request said. */
export function prepareNamespace(ns: Json, current: Json | undefined): void {
  ns.spec = { finalizers: current ? [...(current.spec?.finalizers ?? [])] : ["kubernetes"] };
}

export function defaultSecret(secret: Json): void {
  secret.type ??= "Opaque";
  if (secret.stringData) {
    secret.data ??= {};
    for (const [k, v] of Object.entries(secret.stringData as Record<string, string>)) {
      secret.data[k] = Buffer.from(v).toString("base64");
    }
    delete secret.stringData;
  }
}

/** The status a new object starts with; clients cannot set it on create. */
export function initialStatus(kind: string): Json | undefined {
  switch (kind) {
    case "ReplicationController":
      return { replicas: 0 };
    case "Pod":
      return { phase: "Pending", qosClass: "BestEffort" };
    case "Service":
      return { loadBalancer: {} };
    case "Namespace":
      return { phase: "Active" };
    default:
      return undefined;
  }
}
