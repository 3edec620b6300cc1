import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubedriver, type Kubedriver } from "../../src/app.js";
import { parseConfig } from "../../src/config/load.js";
import { silentLogger } from "../../src/observability/logger.js";
import { eventually, startTestCluster, type TestCluster } from "../support/cluster.js";
import { call, clientsFor, grpcError } from "../support/grpc.js";
import { checkMetrics, promtool } from "./promtool.js";
import { sample, samples, scrape } from "./scrape.js";

let cluster: TestCluster;
let app: Kubedriver;
let clients: ReturnType<typeof clientsFor>;
let namespace: string;

beforeAll(async () => {
  promtool();
  cluster = await startTestCluster();
  namespace = cluster.uniqueNamespace("metrics");
  app = await startKubedriver(
    parseConfig(`
server: {listen: "127.0.0.1:0", metricsListen: "127.0.0.1:0"}
kubernetes:
  healthCheckIntervalSeconds: 3600
  accounts:
    - {name: acct, kubeconfigFile: ${JSON.stringify(cluster.kubeconfigPath)}, namespaces: [${namespace}], dockerRegistries: [{accountName: hub}]}
dockerRegistry:
  accounts: [{name: hub, address: https://index.docker.io, username: u, password: metrics-hub-password}]
`),
    silentLogger,
  );
  clients = clientsFor(app.grpc.address);
  // Provisioned (namespace and pull secret in place) before anything is measured.
  await eventually(async () => {
    const { account } = await call(clients.accounts.getAccount, clients.accounts, { account: "acct" });
    expect(account?.lastProvisioning?.succeeded).toBe(true);
  });
  // promtool is built when not cached yet: minutes, once per machine (CI builds it before the suite).
}, 600_000);

afterAll(async () => {
  clients?.close();
  await app?.stop();
  await cluster?.close();
});

const getAccount = { grpc_type: "unary", grpc_service: "kubedriver.v1.Accounts", grpc_method: "GetAccount" };

describe("Prometheus /metrics on server.metricsListen", () => {
  it("serves the text exposition at /metrics and nothing else", async () => {
    const res = await scrape(app.metrics!.address);
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect((await scrape(app.metrics!.address, "/")).status).toBe(404);
  });

  it("counts RPCs under the go-grpc-prometheus names, by code", async () => {
    const before = await scrape(app.metrics!.address);
    await call(clients.accounts.getAccount, clients.accounts, { account: "acct" });
    await grpcError(call(clients.accounts.getAccount, clients.accounts, { account: "caller-chosen-name-xyz" }));
    const { text } = await scrape(app.metrics!.address);
    const delta = (name: string, labels: Record<string, string>) => (sample(text, name, labels) ?? 0) - (sample(before.text, name, labels) ?? 0);

    expect(delta("grpc_server_started_total", getAccount)).toBe(2);
    expect(delta("grpc_server_handled_total", { ...getAccount, grpc_code: "OK" })).toBe(1);
    expect(delta("grpc_server_handled_total", { ...getAccount, grpc_code: "NotFound" })).toBe(1);
    expect(delta("grpc_server_msg_received_total", getAccount)).toBe(2);
    expect(delta("grpc_server_msg_sent_total", getAccount)).toBe(1);
    expect(delta("grpc_server_handling_seconds_count", getAccount)).toBe(2);
    // Every method exists from the start, at 0, as go-grpc-prometheus initialises them.
    expect(sample(text, "grpc_server_started_total", { grpc_service: "kubedriver.v1.ServerGroups", grpc_method: "DestroyServerGroup" })).toBe(0);
    // What a caller sends never becomes a label.
    expect(text).not.toContain("caller-chosen-name-xyz");
  });

  it("counts Kubernetes requests by account, verb, resource and HTTP status, with their latency", async () => {
    await call(clients.health.checkNamespaces, clients.health, { accounts: [], namespaces: [], fresh: true });
    const { text } = await scrape(app.metrics!.address);
    const gets = { account: "acct", verb: "get", resource: "namespaces" };
    expect(sample(text, "kubedriver_kube_requests_total", { ...gets, code: "200" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "kubedriver_kube_request_duration_seconds_count", gets)).toBeGreaterThanOrEqual(1);
    // Provisioning read the pull secret: a resource of its own.
    expect(samples(text, "kubedriver_kube_requests_total").some((s) => s.labels.resource === "secrets" && s.labels.account === "acct")).toBe(true);
  });

  it("reports each namespace's reachability, the probe rounds and the provisioning results", async () => {
    await call(clients.health.checkNamespaces, clients.health, { accounts: [], namespaces: [], fresh: true });
    const { text } = await scrape(app.metrics!.address);
    expect(sample(text, "kubedriver_namespace_reachable", { account: "acct", namespace })).toBe(1);
    expect(sample(text, "kubedriver_namespace_probe_round_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(sample(text, "kubedriver_account_provisionings_total", { account: "acct", result: "succeeded" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "kubedriver_provisioned_objects_total", { account: "acct", object: "pull_secret", action: "created" })).toBe(1);
    expect(sample(text, "kubedriver_config_reloads_total")).toBeUndefined();
  });

  it("counts open streams and the messages they send, and forgets a stream once it ends", async () => {
    const stream = clients.health.watchNamespaces({ accounts: [], namespaces: [] });
    stream.on("error", () => {});
    await new Promise((resolve) => stream.once("data", resolve));
    expect(sample((await scrape(app.metrics!.address)).text, "kubedriver_open_streams")).toBe(1);
    const watch = { grpc_type: "server_stream", grpc_service: "kubedriver.v1.Health", grpc_method: "WatchNamespaces" };
    stream.cancel();
    await eventually(async () => {
      const { text } = await scrape(app.metrics!.address);
      expect(sample(text, "kubedriver_open_streams")).toBe(0);
      expect(sample(text, "grpc_server_handled_total", { ...watch, grpc_code: "Canceled" })).toBe(1);
      expect(sample(text, "grpc_server_msg_sent_total", watch)).toBeGreaterThanOrEqual(1);
    });
  });

  it("passes promtool check metrics, after calls of every outcome", async () => {
    await call(clients.accounts.getAccount, clients.accounts, { account: "acct" });
    await grpcError(call(clients.accounts.getAccount, clients.accounts, { account: "nope" }));
    await call(clients.health.checkNamespaces, clients.health, { accounts: [], namespaces: [], fresh: true });
    const { text } = await scrape(app.metrics!.address);
    expect(checkMetrics(text)).toEqual({ status: 0, output: "" });
    // What the `_total` gauges dropped for it said stays in their namesakes.
    expect(samples(text, "nodejs_active_handles").length).toBeGreaterThan(0);
  });

  it("says which version and commit runs in kubedriver_build_info", async () => {
    const { text } = await scrape(app.metrics!.address);
    const { version } = JSON.parse(fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: new URL("../..", import.meta.url), encoding: "utf8" }).trim();
    expect(samples(text, "kubedriver_build_info")).toEqual([{ labels: { version, commit }, value: 1 }]);
  });

  it("has handled_total at 0 for every code of every method before any call, as go-grpc-prometheus", async () => {
    const { text } = await scrape(app.metrics!.address);
    const destroy = { grpc_type: "unary", grpc_service: "kubedriver.v1.ServerGroups", grpc_method: "DestroyServerGroup" };
    const codes = samples(text, "grpc_server_handled_total").filter((s) => Object.entries(destroy).every(([k, v]) => s.labels[k] === v));
    expect(codes.map((s) => s.labels.grpc_code).sort()).toEqual(
      ["OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted",
        "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"].sort(),
    );
    expect(codes.every((s) => s.value === 0)).toBe(true);
  });

  it("has handling-time buckets up to an hour, for waits and streams", async () => {
    const { text } = await scrape(app.metrics!.address);
    const watch = { grpc_type: "server_stream", grpc_service: "kubedriver.v1.ServerGroups", grpc_method: "WatchServerGroups" };
    const bounds = samples(text, "grpc_server_handling_seconds_bucket")
      .filter((s) => Object.entries(watch).every(([k, v]) => s.labels[k] === v))
      .map((s) => s.labels.le);
    expect(bounds).toEqual(expect.arrayContaining(["60", "300", "900", "1800", "3600", "+Inf"]));
  });

  it("includes the process and Node.js defaults and the admission gauges", async () => {
    const { text } = await scrape(app.metrics!.address);
    for (const name of ["process_cpu_user_seconds_total", "process_resident_memory_bytes", "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes"]) {
      expect(sample(text, name), name).toBeGreaterThanOrEqual(0);
    }
    expect(sample(text, "kubedriver_queued_calls")).toBe(0);
    expect(sample(text, "kubedriver_admitted_calls")).toBe(0);
  });
});
