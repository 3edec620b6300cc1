import { status as Code } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WaitCondition } from "../../gen/kubedriver/v1/server_groups.js";
import { HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health.js";
import { eventually, startTestCluster, type TestCluster } from "../support/cluster.js";
import { call, detailsOf } from "../support/grpc.js";
import { startKubedriverOn, type KubedriverOn } from "../support/kubedriver.js";
import {
  appended,
  leniently,
  nested,
  rawClient,
  rpcs,
  stringSlots,
  withField,
  withInvalidUtf8,
  WireType,
  type Message,
  type Outcome,
  type RpcName,
} from "../support/malformed.js";

/*
 * Malformed input never yields INTERNAL (or UNKNOWN) and never changes the
 * cluster. Every case starts from a valid request of its RPC, breaks one
 * field, sends the bytes, and checks the status code, that the status names
 * the field, and that the namespace holds exactly the objects it held before.
 */

let cluster: TestCluster;
let kd: KubedriverOn;
let raw: ReturnType<typeof rawClient>;
let clients: KubedriverOn["clients"];
let ns: string;
/** The server group every addressing RPC targets, created from the valid CreateServerGroup request (twice, for a second page). */
const target = "mal-base-x-v000";

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = await cluster.createNamespace("mal");
  await cluster.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: "frontend" }, spec: { selector: { "load-balancer-frontend": "true" }, ports: [{ port: 80 }] } },
  });
  kd = await startKubedriverOn(cluster, { accounts: [{ name: "main", namespaces: [ns] }] });
  clients = kd.clients;
  raw = rawClient(kd.app.grpc.address);
  // The valid base request must work, or every case below proves nothing.
  // Ids of their own: a case that reused the base's id for a different request would be refused for that alone.
  for (const requestId of ["setup-1", "setup-2"]) {
    const created = await raw.call("CreateServerGroup", rpcs.CreateServerGroup!.encode({ ...bases().CreateServerGroup, requestId }));
    expect(created).toMatchObject({ code: Code.OK });
  }
  await eventually(async () => {
    const pods = await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: "kubedriver.io/cluster=mal-base-x" });
    expect(pods.items).toHaveLength(2);
  });
}, 60_000);

afterAll(async () => {
  raw?.close();
  await kd?.close();
  await cluster?.close();
});

// ---------------------------------------------------------------- valid base requests

const container = (name: string): Message => ({
  name,
  image: "registry.example.com/team/web:1.0",
  command: ["/bin/web"],
  args: ["--port", "8080"],
  env: [
    { name: "MODE", value: "prod" },
    { name: "TOKEN", secretKey: { name: "web-secrets", key: "token" } },
    { name: "FLAGS", configMapKey: { name: "web-config", key: "flags" } },
  ],
  ports: [{ name: "http", containerPort: 8080, protocol: 1 }],
  resources: { requests: { cpu: "250m", memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } },
  livenessProbe: {
    httpGet: { path: "/healthz", port: 8080, portName: "", host: "localhost", scheme: 1, headers: [{ name: "X-Probe", value: "live" }] },
    initialDelay: { seconds: 5, nanos: 0 },
    timeout: { seconds: 2, nanos: 0 },
    period: { seconds: 10, nanos: 0 },
    successThreshold: 1,
    failureThreshold: 3,
  },
  readinessProbe: {
    tcpSocket: { port: 0, portName: "http", host: "" },
    initialDelay: { seconds: 1, nanos: 0 },
    timeout: undefined,
    period: undefined,
    successThreshold: 2,
    failureThreshold: 3,
  },
  volumeMounts: [{ name: "scratch", mountPath: "/tmp/scratch", readOnly: false, subPath: "cache" }],
});

const sidecar = (): Message => ({
  ...container("sidecar"),
  env: [],
  ports: [],
  livenessProbe: undefined,
  readinessProbe: { exec: { command: ["/bin/check", "--ready"] }, successThreshold: 1, failureThreshold: 3 },
  volumeMounts: [{ name: "config", mountPath: "/etc/web", readOnly: true, subPath: "" }],
});

const volumes = (): Message[] => [
  { name: "scratch", emptyDir: { memory: false, sizeLimit: "1Gi" } },
  { name: "config", configMap: { name: "web-config", items: [{ key: "flags", path: "flags.txt" }], defaultMode: 0o644, optional: true } },
  { name: "certs", secret: { secretName: "web-certs", items: [{ key: "tls.crt", path: "tls/tls.crt" }], defaultMode: 0, optional: true } },
  { name: "data", persistentVolumeClaim: { claimName: "web-data", readOnly: true } },
];

/** One valid request per RPC, with every string field it has set, so that each can be broken. */
function bases(): Record<RpcName, Message> {
  // Cases are listed before the namespace exists; only their shape matters then.
  const namespace = ns ?? "not-yet";
  const ref = { account: "main", namespace, name: target };
  return {
    ListAccounts: { pageSize: 10, pageToken: "" },
    GetAccount: { account: "main" },
    SyncAccount: { account: "main" },
    CreateServerGroup: {
      account: "main",
      namespace,
      application: "mal",
      stack: "base",
      detail: "x",
      targetSize: 1,
      containers: [container("web"), sidecar()],
      loadBalancers: ["frontend"],
      volumes: volumes(),
      labels: { team: "payments" },
      annotations: { "example.com/owner": "alice" },
      nodeSelector: { "kubernetes.io/os": "linux" },
      requestId: "create-1",
    },
    CloneServerGroup: {
      account: "main",
      namespace,
      source: target,
      targetNamespace: namespace,
      application: "mal",
      stack: "clone",
      detail: "y",
      targetSize: 1,
      containers: { items: [container("web"), sidecar()] },
      loadBalancers: { items: ["frontend"] },
      volumes: { items: volumes() },
      labels: { entries: { team: "payments" } },
      annotations: { entries: { "example.com/owner": "alice" } },
      nodeSelector: { entries: { "kubernetes.io/os": "linux" } },
      requestId: "clone-1",
    },
    GetServerGroup: { ...ref, consistency: 0 },
    ListServerGroups: { account: "main", namespaces: [namespace], application: "mal", cluster: "mal-base-x", pageSize: 10, pageToken: "", consistency: 0 },
    WatchServerGroups: { account: "main", namespaces: [namespace], application: "mal", cluster: "mal-base-x", name: "" },
    WaitForServerGroup: { ...ref, condition: WaitCondition.WAIT_CONDITION_UP, upPercent: 0, timeout: { seconds: 2, nanos: 0 } },
    ResizeServerGroup: { ...ref, targetSize: 1, requestId: "resize-1" },
    EnableServerGroup: { ...ref, requestId: "enable-1" },
    DisableServerGroup: { ...ref, requestId: "disable-1" },
    DestroyServerGroup: { ...ref, requestId: "destroy-1" },
    CheckNamespaces: { accounts: ["main"], namespaces: [namespace], fresh: false },
    WatchNamespaces: { accounts: ["main"], namespaces: [namespace] },
  };
}

// ---------------------------------------------------------------- the corpus

interface Case {
  rpc: RpcName;
  title: string;
  /** The request as sent; built lazily, as the base requests need the test namespace. */
  bytes: () => Buffer | Promise<Buffer>;
  code: Code;
  /** For INVALID_ARGUMENT, a field violation at (or under) this path; otherwise a word the message must contain. */
  names: string;
}

const INVALID = Code.INVALID_ARGUMENT;
const NOT_FOUND = Code.NOT_FOUND;
const PRECONDITION = Code.FAILED_PRECONDITION;

const mib = 1 << 20;
const long = (n: number, c = "a") => c.repeat(n);
/** A value as a test name shows it: short. */
const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 30)}…(${s.length} chars)` : s;
};

/** Names that are not DNS labels: upper case, `_`, leading `-`, white space, non-ASCII, path tricks. */
const oddNames = ["Web", "web_app", "-web", "web-", "we b", "wéb", "..", "a/b", "we\u0000b"];
/** The same, and names longer than any name can be. */
const badNames = [...oddNames, long(300)];
const tooLong = [long(300), long(mib)];

/**
 * The table: an RPC, a field (proto path, set on the valid base), bad values,
 * the code, and why that code. Identifiers that look things up answer what
 * a lookup of something absent answers; identifiers that create things, and
 * anything out of range or ill-formed, are INVALID_ARGUMENT.
 */
interface Row {
  rpcs: RpcName[];
  field: string;
  values: unknown[];
  code: Code;
  /** What the status must name, when not the field itself. */
  names?: string | ((value: unknown) => string);
  why: string;
}

const addressing: RpcName[] = ["GetServerGroup", "ResizeServerGroup", "EnableServerGroup", "DisableServerGroup", "DestroyServerGroup"];
const mutating: RpcName[] = ["CreateServerGroup", "CloneServerGroup", "ResizeServerGroup", "EnableServerGroup", "DisableServerGroup", "DestroyServerGroup"];

const accountNamed: RpcName[] = ["GetAccount", "SyncAccount", "CreateServerGroup", "CloneServerGroup", ...addressing];
const namespaced: RpcName[] = ["CreateServerGroup", "CloneServerGroup", ...addressing];

const rows: Row[] = [
  // Identifiers of things that exist or not.
  { rpcs: accountNamed, field: "account", values: ["", ...tooLong], code: INVALID, why: "required, and no name is that long" },
  {
    rpcs: [...accountNamed, "ListServerGroups"],
    field: "account",
    values: oddNames,
    code: NOT_FOUND,
    names: "account",
    why: "a well-formed string naming no configured account (account names are free-form config names)",
  },
  { rpcs: ["ListServerGroups"], field: "account", values: tooLong, code: NOT_FOUND, names: "account", why: "an optional filter naming no account" },
  {
    rpcs: ["CheckNamespaces", "WatchNamespaces"],
    field: "accounts",
    values: [[""], ["Web"], [long(300)], [long(mib)], ["main", "nope"]],
    code: NOT_FOUND,
    names: "account",
    why: "the contract: NOT_FOUND for an unknown account in `accounts`",
  },
  { rpcs: namespaced, field: "namespace", values: ["", ...tooLong], code: INVALID, why: "required, and no name is that long" },
  { rpcs: namespaced, field: "namespace", values: oddNames, code: PRECONDITION, names: "namespace", why: "the contract: FAILED_PRECONDITION for a namespace the account does not manage" },
  { rpcs: ["ListServerGroups"], field: "namespaces", values: [["Web"], [long(300)], [long(mib)], [""]], code: PRECONDITION, names: "namespace", why: "a namespace the account does not manage" },
  {
    rpcs: addressing,
    field: "name",
    values: ["", ...badNames, long(mib), "web", "web-v1", "web-v0001", "Web-v000", "web--v000", "a".repeat(59) + "-v000"],
    code: INVALID,
    why: "not application[-stack[-detail]]-vNNN (and it becomes a label selector value, which the API server rejects)",
  },
  { rpcs: addressing, field: "name", values: ["mal-base-x-v099", "other-v000"], code: NOT_FOUND, names: "server group", why: "a server group name that names none" },
  { rpcs: ["CloneServerGroup"], field: "source", values: ["", ...badNames, long(mib), "web"], code: INVALID, why: "not a server group name" },
  { rpcs: ["CloneServerGroup"], field: "source", values: ["mal-base-x-v099"], code: NOT_FOUND, names: "server group", why: "names no server group" },
  { rpcs: ["CloneServerGroup"], field: "target_namespace", values: [...badNames, long(mib)], code: PRECONDITION, names: "namespace", why: "a namespace the account does not manage" },
  { rpcs: mutating, field: "request_id", values: [long(129), long(mib)], code: INVALID, why: "at most 128 characters" },

  {
    rpcs: ["ListServerGroups"],
    field: "application",
    values: ["Web", "a,b", "a=b", "a b", "a!", "x in (y)", "web-prod", long(300), long(mib)],
    code: INVALID,
    why: "a filter no server group can match (and `,` `=` would change the label selector)",
  },
  { rpcs: ["ListServerGroups"], field: "cluster", values: ["Web", "a,b", "a=b", "-a", "a-", "a---b-", "a b", long(300), long(mib)], code: INVALID, why: "not application[-stack[-detail]]" },

  // Sizes.
  { rpcs: ["CreateServerGroup", "CloneServerGroup", "ResizeServerGroup"], field: "target_size", values: [-1, -(2 ** 31), 2 ** 31 - 1, 10_001], code: INVALID, why: "0..10000" },
  { rpcs: ["ListAccounts", "ListServerGroups"], field: "page_size", values: [-1, -(2 ** 31)], code: INVALID, why: "negative" },
  { rpcs: ["ListAccounts", "ListServerGroups"], field: "page_token", values: ["garbage!", "%%%", "=", Buffer.from([0xc3, 0x28, 0xff]).toString("base64url"), Buffer.from("x").toString("base64"), long(mib, "A")], code: INVALID, why: "not a token this service issued" },
];

/** Rows about the spec, for CreateServerGroup; CloneServerGroup gets the same ones under its wrappers. */
const specRows: Row[] = [
  { rpcs: [], field: "application", values: ["", ...badNames, long(60)], code: INVALID, why: "required, lower-case letters and digits, name at most 63 characters" },
  { rpcs: [], field: "stack", values: badNames, code: INVALID, why: "lower-case letters and digits" },
  { rpcs: [], field: "detail", values: [...badNames, "a--b-", long(55)], code: INVALID, why: "lower-case letters, digits and '-', starting and ending with one" },
  { rpcs: [], field: "containers", values: [[], Array.from({ length: 10_000 }, (_, i) => ({ ...container(`c${i}`), volumeMounts: [] }))], code: INVALID, why: "at least one; the spec must fit the ReplicationController's annotations" },
  { rpcs: [], field: "containers[1].name", values: ["", "web", ...badNames], code: INVALID, why: "required DNS label, unique" },
  {
    rpcs: [],
    field: "containers[0].image",
    values: ["", " ", "Registry.example.com/UPPER", "web app", "web:", ":1.0", "web@sha256:xyz", "web:tag with space", "web:" + long(129), long(100_000, "w"), "host:99999999/x", "a//b"],
    code: INVALID,
    why: "an image reference",
  },
  {
    rpcs: [],
    field: "containers[0].env",
    values: [Array.from({ length: 10_000 }, (_, i) => ({ name: `V${i}`, value: "x" }))],
    code: INVALID,
    names: "containers",
    why: "the spec must fit the ReplicationController's annotations",
  },
  { rpcs: [], field: "containers[0].env[0].name", values: ["", "A=B", "A B", "1\u0000"], code: INVALID, why: "a variable name" },
  { rpcs: [], field: "containers[0].env[1].secret_key.name", values: ["", "Bad_Name", long(300)], code: INVALID, why: "a Secret name" },
  { rpcs: [], field: "containers[0].env[1].secret_key.key", values: ["", "bad key", "../x"], code: INVALID, why: "a Secret key" },
  { rpcs: [], field: "containers[0].env[2].config_map_key.name", values: ["", "Bad_Name"], code: INVALID, why: "a ConfigMap name" },
  { rpcs: [], field: "containers[0].ports[0].container_port", values: [0, -1, 65_536, 2 ** 31 - 1, -(2 ** 31)], code: INVALID, why: "1..65535" },
  { rpcs: [], field: "containers[0].ports[0].name", values: ["HTTP", long(16), "-http", "123", "h_t"], code: INVALID, why: "an IANA service name" },
  ...(["requests", "limits"] as const).flatMap((kind) =>
    (["cpu", "memory"] as const).map(
      (r): Row => ({
        rpcs: [],
        field: `containers[0].resources.${kind}.${r}`,
        values: ["abc", "-1", "1.2.3", "1Qi", "1e999", " 1", "1 m", "1k2", ".", "1..", "Infinity", "1e18k", "0x10"],
        code: INVALID,
        why: "a non-negative Kubernetes quantity",
      }),
    ),
  ),
  ...(["initial_delay", "timeout", "period"] as const).map(
    (d): Row => ({
      rpcs: [],
      field: `containers[0].liveness_probe.${d}`,
      values: [{ seconds: -1, nanos: 0 }, { seconds: 0, nanos: -1 }, { seconds: 1, nanos: 500_000_000 }, { seconds: 0, nanos: 1_000_000_000 }, { seconds: 1_000_000_000_000, nanos: 0 }],
      code: INVALID,
      why: "whole seconds, 0..86400",
    }),
  ),
  { rpcs: [], field: "containers[0].liveness_probe.success_threshold", values: [-1, 2, 2 ** 31 - 1], code: INVALID, why: "1 for liveness" },
  { rpcs: [], field: "containers[0].liveness_probe.failure_threshold", values: [-1, 2 ** 31 - 1], code: INVALID, why: "0..86400" },
  { rpcs: [], field: "containers[0].liveness_probe.http_get.port", values: [-1, 65_536, 2 ** 31 - 1], code: INVALID, why: "1..65535" },
  { rpcs: [], field: "containers[0].liveness_probe.http_get.port_name", values: ["http"], code: INVALID, names: "containers[0].liveness_probe.http_get", why: "port and port_name both set" },
  { rpcs: [], field: "containers[0].liveness_probe.http_get.headers[0].name", values: ["", "Bad Header", "X:Y"], code: INVALID, why: "an HTTP header name" },
  { rpcs: [], field: "containers[0].readiness_probe.tcp_socket.port_name", values: ["HTTP", long(16), "nope"], code: INVALID, why: "the name of a port of the container" },
  { rpcs: [], field: "containers[0].readiness_probe.tcp_socket", values: [{ port: 0, portName: "", host: "" }], code: INVALID, why: "port or port_name required" },
  { rpcs: [], field: "containers[1].readiness_probe.exec.command", values: [[]], code: INVALID, why: "required" },
  { rpcs: [], field: "containers[1].readiness_probe.exec", values: [undefined], code: INVALID, names: "containers[1].readiness_probe", why: "a handler is required" },
  { rpcs: [], field: "containers[0].volume_mounts[0].name", values: ["missing", "", "Scratch"], code: INVALID, why: "a volume of the group" },
  { rpcs: [], field: "containers[0].volume_mounts[0].mount_path", values: ["", "relative/path"], code: INVALID, why: "an absolute path" },
  { rpcs: [], field: "containers[0].volume_mounts[0].sub_path", values: ["../escape", "/absolute", "a/../../b"], code: INVALID, why: "a relative path inside the volume" },
  { rpcs: [], field: "volumes[0].name", values: ["", ...badNames], code: INVALID, why: "a DNS label" },
  { rpcs: [], field: "volumes[0].name", values: ["config"], code: INVALID, names: "volumes[1].name", why: "unique: the second of a name is the duplicate" },
  { rpcs: [], field: "volumes[0].config_map", values: [{ name: "x", items: [], defaultMode: 0, optional: false }], code: INVALID, names: "volumes[0]", why: "exactly one source" },
  { rpcs: [], field: "volumes[0].empty_dir.size_limit", values: ["1GB", "-1Gi", "big", "1e999"], code: INVALID, why: "a non-negative quantity" },
  { rpcs: [], field: "volumes[1].config_map.name", values: ["", "Bad_Name", long(300)], code: INVALID, why: "a ConfigMap name" },
  { rpcs: [], field: "volumes[1].config_map.default_mode", values: [-1, 0o1000, 2 ** 31 - 1], code: INVALID, why: "0..0777" },
  { rpcs: [], field: "volumes[1].config_map.items[0].key", values: ["", "bad key"], code: INVALID, why: "a ConfigMap key" },
  { rpcs: [], field: "volumes[1].config_map.items[0].path", values: ["", "/abs", "../up", "a/../../b"], code: INVALID, why: "a relative path without '..'" },
  { rpcs: [], field: "volumes[2].secret.secret_name", values: ["", "Bad_Name"], code: INVALID, why: "a Secret name" },
  { rpcs: [], field: "volumes[2].secret.items[0].path", values: ["../../etc/passwd"], code: INVALID, why: "a relative path without '..'" },
  { rpcs: [], field: "volumes[3].persistent_volume_claim.claim_name", values: ["", "Bad_Name"], code: INVALID, why: "a claim name" },
  { rpcs: [], field: "load_balancers[0]", values: ["Frontend", "front_end", "-x", "", long(300)], code: INVALID, why: "a Service name" },
  { rpcs: [], field: "load_balancers[0]", values: ["absent"], code: PRECONDITION, names: "absent", why: "the contract: FAILED_PRECONDITION for a missing load balancer" },
  { rpcs: [], field: "labels", values: [{ "Bad Key": "v" }, { "-x": "v" }, { [long(300)]: "v" }, { "kubedriver.io/application": "v" }, { "": "v" }], code: INVALID, names: (v) => `labels[${JSON.stringify(Object.keys(v as object)[0])}]`, why: "a label key of our own" },
  { rpcs: [], field: "labels[\"team\"]", values: ["bad value", long(64), long(mib)], code: INVALID, why: "a label value" },
  { rpcs: [], field: "annotations", values: [{ "kubedriver.io/x": "v" }, { "Bad Key": "v" }, { "": "v" }], code: INVALID, names: (v) => `annotations[${JSON.stringify(Object.keys(v as object)[0])}]`, why: "an annotation key of our own" },
  { rpcs: [], field: "annotations[\"example.com/owner\"]", values: [long(mib)], code: INVALID, names: "annotations", why: "annotations total at most 256 KiB" },
  { rpcs: [], field: "node_selector", values: [{ "Bad Key": "v" }, { "kubernetes.io/os": "bad value" }], code: INVALID, names: (v) => `node_selector[${JSON.stringify(Object.keys(v as object)[0])}]`, why: "a label selector term" },
];

/** Clone's overrides are the spec's fields in wrappers: `containers.items[0]`, `labels.entries["k"]`. */
function underCloneWrappers(path: string): string {
  return path
    .replace(/^(containers|volumes|load_balancers)(\[|$)/, "$1.items$2")
    .replace(/^(labels|annotations|node_selector)(\[|$)/, "$1.entries$2");
}

function casesOf(row: Row): Case[] {
  return row.rpcs.flatMap((rpc) =>
    row.values.map((value) => {
      const names = typeof row.names === "function" ? row.names(value) : (row.names ?? row.field);
      return { rpc, title: `${row.field} = ${show(value)} → ${Code[row.code]} (${row.why})`, bytes: () => rpcs[rpc]!.encode(withField(bases()[rpc], row.field, value)), code: row.code, names };
    }),
  );
}

/** The same spec row for CloneServerGroup, whose wire paths have the wrappers. */
function forClone(r: Row): Row {
  const names = r.names;
  return {
    ...r,
    rpcs: ["CloneServerGroup"],
    field: underCloneWrappers(r.field),
    names: typeof names === "function" ? (v) => underCloneWrappers(names(v)) : underCloneWrappers(names ?? r.field),
  };
}

/** A page token of one query, sent with another: a token belongs to the query that issued it. */
function tokenCase(rpc: RpcName, title: string, issue: () => Promise<string>): Case {
  return {
    rpc,
    title: `page_token ${title} → INVALID_ARGUMENT (a token belongs to its query)`,
    bytes: async () => rpcs[rpc]!.encode(withField(bases()[rpc], "page_token", await issue())),
    code: INVALID,
    names: "page_token",
  };
}

/** The first page token of a ListServerGroups query (the namespace holds two server groups, so there is one). */
async function listGroups(filters: Message): Promise<string> {
  const page = await call(clients.serverGroups.listServerGroups, clients.serverGroups, {
    account: "main",
    namespaces: [],
    application: "",
    cluster: "",
    pageSize: 1,
    pageToken: "", consistency: 0,
    ...filters,
  });
  expect(page.nextPageToken).not.toBe("");
  return page.nextPageToken;
}

const semanticCases: Case[] = [
  ...rows.flatMap(casesOf),
  ...specRows.flatMap((r) => casesOf({ ...r, rpcs: ["CreateServerGroup"] })),
  ...specRows.map(forClone).flatMap(casesOf),
  tokenCase("ListAccounts", "of ListServerGroups", () => listGroups({})),
  tokenCase("ListServerGroups", "of ListServerGroups with other filters", () => listGroups({ application: "" })),
  tokenCase("ListServerGroups", "of ListServerGroups for another account filter", () => listGroups({ account: "", namespaces: [ns] })),
];

/** Invalid UTF-8 in every string of every RPC's valid request. */
const utf8Cases: Case[] = Object.keys(rpcs).flatMap((rpc) =>
  stringSlots(rpcs[rpc]!.input, bases()[rpc]).map((slot): Case => {
    const broken = () => withInvalidUtf8(rpc, bases()[rpc]!, slot);
    return { rpc, title: `invalid UTF-8 in ${slot.title} → INVALID_ARGUMENT`, bytes: () => broken().bytes, code: INVALID, names: slot.field(leniently) };
  }),
);

// ---------------------------------------------------------------- hand-encoded wire

/** Container fields by number (server_group.proto), for containers written byte by byte. */
const containerField = { name: 1, image: 2, ports: 6, livenessProbe: 8 } as const;

/**
 * The valid request of a spec RPC with one more container, written by hand
 * (CreateServerGroup field 7; CloneServerGroup field 9, a ContainerList
 * whose items are field 1), carrying what ts-proto's encoder cannot write.
 */
function withHandWrittenContainer(rpc: "CreateServerGroup" | "CloneServerGroup", write: (c: Parameters<typeof nested>[0]) => void): Buffer {
  const container = (w: Parameters<typeof nested>[0], field: number) =>
    nested(w, field, (c) => {
      c.tag(containerField.name, WireType.LengthDelimited).string("hand");
      c.tag(containerField.image, WireType.LengthDelimited).string("registry.example.com/team/web:1.0");
      write(c);
    });
  const base = bases()[rpc];
  if (rpc === "CreateServerGroup") {
    return appended(rpcs[rpc]!.encode(withField(base, "containers", [])), (w) => container(w, 7));
  }
  return appended(rpcs[rpc]!.encode(withField(base, "containers", undefined)), (w) => nested(w, 9, (list) => container(list, 1)));
}

const specRpcs = ["CreateServerGroup", "CloneServerGroup"] as const;
const atContainer = (rpc: (typeof specRpcs)[number], rest: string) => (rpc === "CloneServerGroup" ? `containers.items[0].${rest}` : `containers[0].${rest}`);

const wireCases: Case[] = [
  // Unknown enum numbers: ts-proto (unrecognizedEnum=false) keeps the number as it is.
  ...specRpcs.flatMap((rpc) => [
    ...[99, -1, 2 ** 31 - 1].map(
      (n): Case => ({
        rpc,
        title: `unknown enum ports[0].protocol = ${n} → INVALID_ARGUMENT`,
        bytes: () => withHandWrittenContainer(rpc, (c) => nested(c, containerField.ports, (p) => p.tag(2, WireType.Varint).int32(8080).tag(3, WireType.Varint).int32(n))),
        code: INVALID,
        names: atContainer(rpc, "ports[0].protocol"),
      }),
    ),
    ...[3, -5].map(
      (n): Case => ({
        rpc,
        title: `unknown enum liveness_probe.http_get.scheme = ${n} → INVALID_ARGUMENT`,
        bytes: () =>
          withHandWrittenContainer(rpc, (c) =>
            nested(c, containerField.livenessProbe, (probe) => nested(probe, 2, (h) => h.tag(2, WireType.Varint).int32(8080).tag(5, WireType.Varint).int32(n))),
          ),
        code: INVALID,
        names: atContainer(rpc, "liveness_probe.http_get.scheme"),
      }),
    ),
    // int64 seconds beyond what a JavaScript number holds exactly: ts-proto's decode throws.
    ...[2n ** 62n, -(2n ** 62n)].map(
      (n): Case => ({
        rpc,
        title: `duration liveness_probe.period.seconds = ${n} → INVALID_ARGUMENT`,
        bytes: () =>
          withHandWrittenContainer(rpc, (c) =>
            nested(c, containerField.livenessProbe, (probe) => {
              nested(probe, 3, (t) => t.tag(1, WireType.Varint).int32(8080));
              nested(probe, 6, (d) => d.tag(1, WireType.Varint).int64(n));
            }),
          ),
        code: INVALID,
        names: atContainer(rpc, "liveness_probe.period"),
      }),
    ),
  ]),
  // Framing that is not protobuf at all, after every RPC's valid request.
  ...Object.keys(rpcs).flatMap((rpc): Case[] => {
    const type = rpcs[rpc]!.input.name;
    const valid = () => rpcs[rpc]!.encode(bases()[rpc]);
    const broken = (title: string, bytes: () => Buffer): Case => ({ rpc, title: `${title} → INVALID_ARGUMENT`, bytes, code: INVALID, names: type });
    return [
      // A request with no fields is empty: there is nothing to cut.
      ...(rpcs[rpc]!.input.fields.length ? [broken("truncated by one byte", () => valid().subarray(0, valid().length - 1))] : []),
      broken("a length prefix past the end", () => appended(valid(), (w) => w.tag(1, WireType.LengthDelimited).uint32(1000).raw(new Uint8Array([1, 2, 3])))),
      broken("wire type 7", () => Buffer.concat([valid(), Buffer.from([(1 << 3) | 7])])),
      broken("field number 0 (ts-proto stops reading there)", () => Buffer.concat([valid(), Buffer.from([0x00, 0x08, 0x01])])),
      broken("a stray end-group tag (ts-proto stops reading there)", () => Buffer.concat([valid(), Buffer.from([(1 << 3) | WireType.EndGroup])])),
      broken("a varint of eleven bytes", () => Buffer.concat([valid(), Buffer.from([(1 << 3) | WireType.Varint, ...new Array<number>(10).fill(0xff), 0x01])])),
      broken("four bytes of garbage", () => Buffer.from([0xde, 0xad, 0xbe, 0xef])),
    ];
  }),
];

// ---------------------------------------------------------------- running it

const corpus: Case[] = [...semanticCases, ...utf8Cases, ...wireCases];

/** What the namespace holds, in terms that change only when someone writes (not when a controller updates status). */
async function snapshot(): Promise<string[]> {
  const [rcs, secrets, pods] = await Promise.all([
    cluster.core.listNamespacedReplicationController({ namespace: ns }),
    cluster.core.listNamespacedSecret({ namespace: ns }),
    cluster.core.listNamespacedPod({ namespace: ns }),
  ]);
  return [
    ...rcs.items.map((o) => `rc ${o.metadata?.name} ${o.metadata?.uid} ${JSON.stringify([o.metadata?.labels, o.metadata?.annotations, o.spec])}`),
    ...secrets.items.map((o) => `secret ${o.metadata?.name} ${o.metadata?.uid} ${o.metadata?.resourceVersion}`),
    ...pods.items.map((o) => `pod ${o.metadata?.name} ${o.metadata?.uid} ${JSON.stringify([o.metadata?.labels, o.metadata?.deletionTimestamp])}`),
  ].sort();
}

/** Clone receives `containers.items[0]` and reports the spec's `containers[0]`: either names the field. */
const normalised = (path: string) => path.replace(/\.(items|entries)(?=[[.]|$)/g, "");

function namesField(outcome: Outcome, c: Case): boolean {
  if (c.code !== INVALID) return outcome.message.includes(c.names);
  const fields = detailsOf(outcome.error!)?.fieldViolations.map((v) => normalised(v.field)) ?? [];
  const want = normalised(c.names);
  if (fields.some((f) => f === want || f.startsWith(`${want}.`) || f.startsWith(`${want}[`))) return true;
  // Bytes that are no protobuf at all have no field: the message names the request type.
  return /Request$/.test(c.names) && outcome.message.includes(c.names);
}

describe("malformed input", () => {
  it(`is a corpus of ${corpus.length} cases`, () => {
    expect(corpus.length).toBeGreaterThan(400);
  });

  for (const c of corpus) {
    it(`${c.rpc}: ${c.title}`, async () => {
      const before = await snapshot();
      const outcome = await raw.call(c.rpc, await c.bytes());
      const seen = `${Code[outcome.code]}: ${outcome.message.slice(0, 300)}`;
      expect([Code.INTERNAL, Code.UNKNOWN], seen).not.toContain(outcome.code);
      expect(Code[outcome.code], seen).toBe(Code[c.code]);
      expect(namesField(outcome, c), `${seen}\nviolations: ${JSON.stringify(detailsOf(outcome.error!)?.fieldViolations.map((v) => v.field))}\nexpected to name ${c.names}`).toBe(true);
      expect(await snapshot()).toEqual(before);
    });
  }

  it("leaves the server healthy and serving", async () => {
    for (const service of ["", "kubedriver.v1.ServerGroups", "kubedriver.v1.Accounts"]) {
      expect((await call(clients.grpcHealth.check, clients.grpcHealth, { service })).status).toBe(ServingStatus.SERVING);
    }
    const group = await call(clients.serverGroups.getServerGroup, clients.serverGroups, { account: "main", namespace: ns, name: target, consistency: 0 });
    expect(group.serverGroup?.name).toBe(target);
    const accounts = await call(clients.accounts.listAccounts, clients.accounts, { pageSize: 0, pageToken: "" });
    expect(accounts.accounts.map((a) => a.name)).toEqual(["main"]);
  });
});
