import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { buildInfo } from "../common/build-info.js";

/**
 * kubedriver's Prometheus metrics: one registry per process, like the
 * process they describe, so that every floor records with a plain function
 * call and nothing has to thread a recorder through constructors. Labels are
 * bounded: gRPC service and method names come from the service definitions,
 * accounts and namespaces from the config, verbs and resources from our own
 * code; never a pod name, a request id or any other caller-provided string.
 */
export const metricsRegistry = new Registry();
const registers = [metricsRegistry];

// The go-grpc-prometheus names and labels, which callers' dashboards already use.
const rpcLabels = ["grpc_type", "grpc_service", "grpc_method"] as const;
const grpcStarted = new Counter({ name: "grpc_server_started_total", help: "RPCs started on the server.", labelNames: rpcLabels, registers });
const grpcHandled = new Counter({
  name: "grpc_server_handled_total",
  help: "RPCs completed on the server, whatever their status.",
  labelNames: [...rpcLabels, "grpc_code"],
  registers,
});
const grpcReceived = new Counter({ name: "grpc_server_msg_received_total", help: "Messages received from callers.", labelNames: rpcLabels, registers });
const grpcSent = new Counter({ name: "grpc_server_msg_sent_total", help: "Messages sent to callers.", labelNames: rpcLabels, registers });
const grpcSeconds = new Histogram({
  name: "grpc_server_handling_seconds",
  help: "Time from the start of an RPC to its status, in seconds.",
  labelNames: rpcLabels,
  // go-grpc-prometheus's defaults (to 10 s), then minutes to an hour: a WaitForServerGroup lasts
  // up to its deadline, a WatchServerGroups or FollowInstanceLogs stream as long as its caller stays.
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600],
  registers,
});

new Gauge({
  name: "kubedriver_build_info",
  help: "Always 1; the labels say which kubedriver runs: its version and the git commit it was built from.",
  labelNames: ["version", "commit"],
  registers,
  collect() {
    const { version, commit } = buildInfo();
    this.set({ version, commit }, 1);
  },
});

const kubeRequests = new Counter({
  name: "kubedriver_kube_requests_total",
  help: "HTTP requests to an account's Kubernetes API server; code is the HTTP status, or <error> when none came back.",
  labelNames: ["account", "verb", "resource", "code"],
  registers,
});
const kubeSeconds = new Histogram({
  name: "kubedriver_kube_request_duration_seconds",
  help: "Time of one HTTP request to an account's Kubernetes API server (each retry apart, waiting for a slot not included).",
  labelNames: ["account", "verb", "resource"],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers,
});

const oversized = new Counter({
  name: "kubedriver_kube_oversized_reads_total",
  help: "Answers and watch events of an API server longer than kubedriver reads (the connection was cut, nothing kept); what is answer or watch_event.",
  labelNames: ["account", "resource", "what"],
  registers,
});
const skippedObjects = new Counter({
  name: "kubedriver_kube_objects_skipped_total",
  help: "Objects (or watch lines) read from an API server that kubedriver could not use and left out, by why.",
  labelNames: ["account", "resource", "reason"],
  registers,
});

const watchRestarts = new Counter({
  name: "kubedriver_kube_watch_restarts_total",
  help: "Watches of a view given up and replaced by a new LIST and WATCH, by why (silent: no event or bookmark within the bound).",
  labelNames: ["account", "resource", "reason"],
  registers,
});

const namespaceReachable = new Gauge({
  name: "kubedriver_namespace_reachable",
  help: "1 when the latest probe round reached the namespace, else 0.",
  labelNames: ["account", "namespace"],
  registers,
});
const probeRoundSeconds = new Histogram({
  name: "kubedriver_namespace_probe_round_seconds",
  help: "Time of one namespace probe round, every namespace of every account.",
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers,
});

const provisionings = new Counter({
  name: "kubedriver_account_provisionings_total",
  help: "Provisioning runs of an account: succeeded, failed (some object not provisioned) or unreachable (no namespace reached the API server).",
  labelNames: ["account", "result"],
  registers,
});
const provisionedObjects = new Counter({
  name: "kubedriver_provisioned_objects_total",
  help: "What provisioning did to each namespace and image pull secret.",
  labelNames: ["account", "object", "action"],
  registers,
});

const configReloads = new Counter({
  name: "kubedriver_config_reloads_total",
  help: "Reloads of the config file (or a file it names): applied, unchanged, or failed (the previous config kept).",
  labelNames: ["result"],
  registers,
});

/** Readings summed at each scrape, so that several servers in one process (tests) add up. */
const sourceGauges = {
  open_streams: "Server streams open now.",
  admitted_calls: "Calls holding a turn of their caller's admission bound now (unary calls until answered, streams while they open).",
  queued_calls: "Calls waiting for a turn of their caller's admission bound now.",
} as const;
export type SourceGauge = keyof typeof sourceGauges;
const sources = new Map<SourceGauge, Set<() => number>>();
for (const [key, help] of Object.entries(sourceGauges) as [SourceGauge, string][]) {
  const readers = new Set<() => number>();
  sources.set(key, readers);
  new Gauge({
    name: `kubedriver_${key}`,
    help,
    registers,
    collect() {
      this.set([...readers].reduce((sum, read) => sum + read(), 0));
    },
  });
}

/** Reports `read()` as (part of) a gauge at every scrape, until the returned function is called. */
export function gaugeSource(gauge: SourceGauge, read: () => number): () => void {
  const readers = sources.get(gauge)!;
  readers.add(read);
  return () => readers.delete(read);
}

let defaultsCollected = false;

/** Adds prom-client's process and Node.js metrics (CPU, memory, event loop lag, GC), once per process. */
export function collectProcessMetrics(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  collectDefaultMetrics({ register: metricsRegistry });
  // Gauges named like counters, which `promtool check metrics` refuses; each is the sum over the
  // `type` label of its namesake without `_total` (sum(nodejs_active_handles)), which stays.
  for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) {
    metricsRegistry.removeSingleMetric(name);
  }
}

export type RpcType = "unary" | "server_stream";

/** The labels of one RPC: service and method as in its service definition. */
export interface RpcLabels {
  grpc_type: RpcType;
  grpc_service: string;
  grpc_method: string;
}

/** Go's codes.Code.String() spellings, indexed by code, which go-grpc-prometheus puts in grpc_code. */
export const goCodeNames = [
  "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists", "PermissionDenied",
  "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
  "Unauthenticated",
];

/**
 * Creates every series of a method at 0, handled_total for every code, as
 * go-grpc-prometheus does: a rate or ratio of errors then exists (at 0)
 * before the first error, and an alert on it can be written and tested.
 */
export function initializeRpcMetrics(labels: RpcLabels): void {
  for (const counter of [grpcStarted, grpcReceived, grpcSent]) counter.labels(labels).inc(0);
  for (const grpc_code of goCodeNames) grpcHandled.labels({ ...labels, grpc_code }).inc(0);
  grpcSeconds.zero(labels);
}

export const rpcMetrics = {
  started: (labels: RpcLabels) => grpcStarted.labels(labels).inc(),
  received: (labels: RpcLabels) => grpcReceived.labels(labels).inc(),
  sent: (labels: RpcLabels) => grpcSent.labels(labels).inc(),
  /** `code` as Go's codes.Code.String() spells it (`OK`, `NotFound`, `Canceled`), like go-grpc-prometheus. */
  handled(labels: RpcLabels, code: string, seconds: number) {
    grpcHandled.labels({ ...labels, grpc_code: code }).inc();
    grpcSeconds.labels(labels).observe(seconds);
  },
};

export interface KubeRequestLabels {
  account: string;
  verb: string;
  /** The resource's plural, lower case, as in a Kubernetes URL: `replicationcontrollers`. */
  resource: string;
}

/** One HTTP request to an API server: its status (undefined when none came back) and duration. */
export function recordKubeRequest(labels: KubeRequestLabels, status: number | undefined, seconds: number): void {
  kubeRequests.labels({ ...labels, code: status === undefined ? "<error>" : String(status) }).inc();
  kubeSeconds.labels(labels).observe(seconds);
}

/** An answer or watch event past kubedriver's read bound. */
export function recordOversized(account: string, kind: string, what: "answer" | "watch event"): void {
  oversized.labels({ account, resource: resourceOf(kind), what: what.replace(" ", "_") }).inc();
}

/** A view's watch replaced by a new LIST and WATCH. */
export function recordWatchRestart(account: string, kind: string, reason: string): void {
  watchRestarts.labels({ account, resource: resourceOf(kind), reason }).inc();
}

/** A watch line that is not a JSON event. */
export function recordUnreadableWatchLine(account: string, kind: string): void {
  skippedObjects.labels({ account, resource: resourceOf(kind), reason: "unreadable_watch_line" }).inc();
}

/** An object kubedriver cannot use (a malformed field), left out of reads; `reason` is a fixed word of our code. */
export function recordSkippedObject(account: string, kind: string, reason: string): void {
  skippedObjects.labels({ account, resource: resourceOf(kind), reason }).inc();
}

/** The resource name of a kind as our code spells it ("replication controller(s)", "pod"). */
export function resourceOf(kind: string): string {
  const word = kind.toLowerCase().replace(/\s+/g, "");
  return word.endsWith("s") ? word : `${word}s`;
}

export interface RecordedProbeRound {
  startedAt: Date;
  endedAt: Date;
  probes: readonly { account: string; namespace: string; reachable: boolean }[];
}

/**
 * Replaces the reachability series with the round's: an account or
 * namespace no longer monitored disappears instead of reporting forever
 * what it last was.
 */
export function recordProbeRound(round: RecordedProbeRound): void {
  probeRoundSeconds.observe((round.endedAt.getTime() - round.startedAt.getTime()) / 1000);
  namespaceReachable.reset();
  for (const p of round.probes) namespaceReachable.labels({ account: p.account, namespace: p.namespace }).set(p.reachable ? 1 : 0);
}

export interface RecordedProvisioning {
  succeeded: boolean;
  unreachable: boolean;
  namespaces: readonly { action: string; pullSecrets: readonly { action: string }[] }[];
}

export function recordProvisioning(account: string, result: RecordedProvisioning): void {
  provisionings.labels({ account, result: result.unreachable ? "unreachable" : result.succeeded ? "succeeded" : "failed" }).inc();
  for (const ns of result.namespaces) {
    provisionedObjects.labels({ account, object: "namespace", action: ns.action }).inc();
    for (const s of ns.pullSecrets) provisionedObjects.labels({ account, object: "pull_secret", action: s.action }).inc();
  }
}

/** How a reload of the config file (or of a file it names) ended. */
export type ConfigReloadOutcome = "applied" | "unchanged" | "failed";

/** Once per reload of the config, whatever its outcome. */
export function recordConfigReload(result: ConfigReloadOutcome): void {
  configReloads.labels({ result }).inc();
}
