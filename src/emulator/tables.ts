import { tableColumns } from "./generated/table-columns.js";
import type { KubeObject } from "./store.js";

type Json = Record<string, any>;
type Cell = string | number;

/**
 * Server-side Tables (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`),
 * as kubectl get asks for them: the column definitions are kube-apiserver's
 * own (generated/table-columns.ts), the cells follow its printers
 * (pkg/printers/internalversion), ages its HumanDuration.
 */
export function asTable(resource: string, body: Json, apiVersion: string, includeObject: string): Json | undefined {
  const columns = tableColumns[resource];
  const printer = printers[resource];
  if (!columns || !printer) return undefined;
  const objects: KubeObject[] = Array.isArray(body.items) ? body.items : [body];
  const metadata: Json = Array.isArray(body.items) ? { ...body.metadata } : { resourceVersion: body.metadata?.resourceVersion };
  const kind = body.kind?.replace(/List$/, "") ?? "";
  const now = Date.now();
  return {
    kind: "Table",
    apiVersion,
    metadata,
    columnDefinitions: columns,
    rows: objects.map((o) => {
      const row: Json = { cells: printer(o, (t) => age(t, now)) };
      if (includeObject === "Object") row.object = { ...o, kind, apiVersion: "v1" };
      else if (includeObject !== "None") row.object = { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata };
      return row;
    }),
  };
}

type Printer = (o: Json, age: (timestamp: string | undefined | null) => string) => Cell[];

const none = (v: string | undefined | null) => (v ? v : "<none>");
const labels = (m: Record<string, string> | undefined) =>
  Object.keys(m ?? {}).length === 0
    ? "<none>"
    : Object.keys(m!)
        .sort()
        .map((k) => `${k}=${m![k]}`)
        .join(",");

const printers: Record<string, Printer> = {
  namespaces: (o, age) => [o.metadata.name, o.status?.phase ?? "", age(o.metadata.creationTimestamp)],
  secrets: (o, age) => [o.metadata.name, o.type ?? "", Object.keys(o.data ?? {}).length, age(o.metadata.creationTimestamp)],
  serviceaccounts: (o, age) => [o.metadata.name, age(o.metadata.creationTimestamp)],
  replicationcontrollers: (o, age) => {
    const containers: Json[] = o.spec?.template?.spec?.containers ?? [];
    return [
      o.metadata.name,
      o.spec?.replicas ?? 0,
      o.status?.replicas ?? 0,
      o.status?.readyReplicas ?? 0,
      age(o.metadata.creationTimestamp),
      containers.map((c) => c.name).join(","),
      containers.map((c) => c.image).join(","),
      labels(o.spec?.selector),
    ];
  },
  pods: (o, age) => {
    const statuses: Json[] = o.status?.containerStatuses ?? [];
    const total = (o.spec?.containers ?? []).length;
    const ready = statuses.filter((s) => s.ready).length;
    const restarts = statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
    let reason = o.status?.reason ?? o.status?.phase ?? "";
    for (const s of statuses) {
      if (s.state?.waiting?.reason) reason = s.state.waiting.reason;
      else if (s.state?.terminated?.reason) reason = s.state.terminated.reason;
    }
    if (o.metadata.deletionTimestamp) reason = "Terminating";
    const gates: Json[] = o.spec?.readinessGates ?? [];
    return [
      o.metadata.name,
      `${ready}/${total}`,
      reason,
      String(restarts),
      age(o.metadata.creationTimestamp),
      none(o.status?.podIP),
      none(o.spec?.nodeName),
      none(o.status?.nominatedNodeName),
      gates.length === 0 ? "<none>" : `${gates.length}/${gates.length}`,
    ];
  },
  services: (o, age) => {
    const spec = o.spec ?? {};
    const type = spec.type ?? "ClusterIP";
    const external = type === "ExternalName" ? spec.externalName : (spec.externalIPs ?? []).join(",") || (type === "LoadBalancer" ? "<pending>" : "<none>");
    const ports = (spec.ports ?? []).map((p: Json) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`)).join(",");
    return [o.metadata.name, type, spec.clusterIP ?? "<none>", external, ports || "<none>", age(o.metadata.creationTimestamp), labels(spec.selector)];
  },
  events: (o, age) => {
    const last = o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp;
    const first = o.firstTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp;
    const source = o.source?.component
      ? [o.source.component, o.source.host].filter(Boolean).join(", ")
      : [o.reportingComponent, o.reportingInstance].filter(Boolean).join(", ");
    const involved = o.involvedObject ?? {};
    return [
      age(last),
      o.type ?? "",
      o.reason ?? "",
      `${String(involved.kind ?? "").toLowerCase()}/${involved.name ?? ""}`,
      involved.fieldPath ?? "",
      source,
      String(o.message ?? "").trim(),
      age(first),
      o.count ?? 1,
      o.metadata.name,
    ];
  },
};

function age(timestamp: string | undefined | null, now: number): string {
  if (!timestamp) return "<unknown>";
  return humanDuration(now - Date.parse(timestamp));
}

/** apimachinery's duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${hours / 24}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${days / 365}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}
