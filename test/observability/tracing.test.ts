import { Metadata } from "@grpc/grpc-js";
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/observability/logger.js";
import { startTracing, tracesExportFromEnv, type Tracing } from "../../src/observability/tracing.js";
import { eventually, onRealCluster, startTestCluster, type TestCluster } from "../support/cluster.js";
import { call } from "../support/grpc.js";
import { startKubedriverOn, type KubedriverOn } from "../support/kubedriver.js";
import { aCreateRequest } from "../support/server-groups.js";

const exporter = new InMemorySpanExporter();
let tracing: Tracing | undefined;
let cluster: TestCluster;
let kd: KubedriverOn;
let namespace: string;
let second: string;

beforeAll(async () => {
  tracing = await startTracing({}, silentLogger, { exporter });
  cluster = await startTestCluster();
  namespace = cluster.uniqueNamespace("traces");
  second = cluster.uniqueNamespace("traces2");
  kd = await startKubedriverOn(cluster, { accounts: [{ name: "acct", namespaces: [namespace, second] }], kubernetes: "healthCheckIntervalSeconds: 3600" });
  await eventually(async () => {
    const { account } = await call(kd.clients.accounts.getAccount, kd.clients.accounts, { account: "acct" });
    expect(account?.lastProvisioning?.succeeded).toBe(true);
  });
});

afterAll(async () => {
  await kd?.close();
  await cluster?.close();
  await tracing?.shutdown();
});

const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
const childrenOf = (parent: ReadableSpan) =>
  exporter.getFinishedSpans().filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId && s.spanContext().traceId === parent.spanContext().traceId);
const callerSpanId = "00f067aa0ba902b7";

describe("OpenTelemetry traces", () => {
  // First: the views synced at start-up, before any test resets the exporter.
  it("makes each view sync one trace, the LIST and the WATCH it opens under it", async () => {
    await eventually(async () => {
      const syncs = exporter.getFinishedSpans().filter((s) => s.name === "kubedriver.view.sync" && s.attributes["kubedriver.namespace"] === namespace);
      const rcs = syncs.find((s) => s.attributes["kubedriver.kube.resource"] === "replicationcontrollers");
      expect(rcs).toBeDefined();
      expect(rcs!.parentSpanContext).toBeUndefined();
      expect(rcs!.attributes).toMatchObject({ "kubedriver.account": "acct", "kubedriver.view.list": true });
      expect(childrenOf(rcs!).map((s) => s.name).sort()).toEqual(["kube list replicationcontrollers", "kube watch replicationcontrollers"]);
      const watch = childrenOf(rcs!).find((s) => s.name.startsWith("kube watch"))!;
      expect(watch.attributes).toMatchObject({ "http.request.method": "GET", "http.response.status_code": 200 });
      expect(watch.attributes["url.full"]).toContain("watch=true");
    });
  });

  it("makes each probe round one trace, its namespace GETs under it, not under the call that asked for it", async () => {
    exporter.reset();
    await call(kd.clients.health.checkNamespaces, kd.clients.health, { accounts: [], namespaces: [], fresh: true });
    await eventually(async () => {
      const rounds = exporter.getFinishedSpans().filter((s) => s.name === "kubedriver.health.round");
      expect(rounds).toHaveLength(1);
      const round = rounds[0]!;
      expect(round.parentSpanContext).toBeUndefined();
      expect(round.attributes).toMatchObject({ "kubedriver.health.probes": 2, "kubedriver.health.unreachable": 0 });
      const probes = childrenOf(round);
      expect(probes.map((s) => s.name)).toEqual(["kube get namespaces", "kube get namespaces"]);
      expect(probes.map((s) => s.attributes["kubedriver.kube.name"]).sort()).toEqual([namespace, second].sort());
    });
    const server = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER)!;
    expect(childrenOf(server)).toEqual([]);
  });

  it("puts OpenTelemetry's HTTP client attributes on each Kubernetes request", async () => {
    exporter.reset();
    await call(kd.clients.accounts.syncAccount, kd.clients.accounts, { account: "acct" });
    const get = exporter.getFinishedSpans().find((s) => s.name === "kube get namespaces")!;
    const server = new URL(cluster.kubeConfig().getCurrentCluster()!.server);
    expect(get.attributes).toMatchObject({
      "http.request.method": "GET",
      "server.address": server.hostname,
      "server.port": Number(server.port || (server.protocol === "https:" ? 443 : 80)),
      "http.response.status_code": 200,
    });
    expect(get.attributes["url.full"]).toMatch(new RegExp(`^${server.origin}/api/v1/namespaces/${namespace}|^${server.origin}/api/v1/namespaces/${second}`));
  });

  it("names the account, namespace, object and request id on a mutation's span", async () => {
    exporter.reset();
    const { serverGroup } = await call(
      kd.clients.serverGroups.createServerGroup,
      kd.clients.serverGroups,
      aCreateRequest({ account: "acct", namespace, application: "traced", targetSize: 0, requestId: "traced-create-1" }),
    );
    const span = exporter.getFinishedSpans().find((s) => s.name === "kubedriver.v1.ServerGroups/CreateServerGroup")!;
    expect(span.attributes).toMatchObject({
      "kubedriver.account": "acct",
      "kubedriver.namespace": namespace,
      "kubedriver.name": serverGroup!.name,
      "kubedriver.request_id": "traced-create-1",
    });
  });

  it("continues the caller's traceparent in a server span, with a client span per Kubernetes request under it", async () => {
    exporter.reset();
    const before = onRealCluster ? 0 : await cluster.requestCount({});
    const metadata = new Metadata();
    metadata.set("traceparent", `00-${traceId}-${callerSpanId}-01`);
    await call(kd.clients.accounts.syncAccount, kd.clients.accounts, { account: "acct" }, { metadata });
    // On a real cluster other clients' requests are counted too.
    const requests = onRealCluster ? undefined : (await cluster.requestCount({})) - before;

    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const server = spans.find((s) => s.kind === SpanKind.SERVER);
    expect(server).toBeDefined();
    expect(server!.name).toBe("kubedriver.v1.Accounts/SyncAccount");
    expect(server!.parentSpanContext?.spanId).toBe(callerSpanId);
    expect(server!.attributes).toMatchObject({ "rpc.system": "grpc", "rpc.grpc.status_code": 0, "kubedriver.account": "acct" });

    const clients = spans.filter((s: ReadableSpan) => s.kind === SpanKind.CLIENT);
    // A sync reads the namespace and the pull secret at least.
    expect(clients.length).toBeGreaterThanOrEqual(2);
    if (requests !== undefined) expect(clients).toHaveLength(requests);
    for (const span of clients) {
      expect(span.parentSpanContext?.spanId).toBe(server!.spanContext().spanId);
      expect(span.attributes["kubedriver.account"]).toBe("acct");
      expect(span.attributes["http.response.status_code"]).toBeGreaterThanOrEqual(200);
    }
    expect(clients.some((s) => s.attributes["kubedriver.namespace"] === namespace)).toBe(true);
  });

  it("starts a new trace for a call without a traceparent", async () => {
    exporter.reset();
    await call(kd.clients.accounts.getAccount, kd.clients.accounts, { account: "acct" });
    const server = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER);
    expect(server?.name).toBe("kubedriver.v1.Accounts/GetAccount");
    expect(server?.parentSpanContext).toBeUndefined();
  });
});

describe("which OTEL_* settings turn traces on", () => {
  const cases: [string, NodeJS.ProcessEnv, string][] = [
    ["nothing set", {}, "none"],
    ["OTEL_TRACES_EXPORTER=otlp", { OTEL_TRACES_EXPORTER: "otlp" }, "http://localhost:4318/v1/traces"],
    ["a base endpoint", { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }, "http://collector:4318/v1/traces"],
    ["a traces endpoint", { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c:4318/custom" }, "http://c:4318/custom"],
    ["an endpoint but OTEL_TRACES_EXPORTER=none", { OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }, "none"],
    ["an endpoint but OTEL_SDK_DISABLED=true", { OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }, "none"],
    ["OTEL_TRACES_EXPORTER=zipkin", { OTEL_TRACES_EXPORTER: "zipkin" }, "none: only otlp"],
    ["the grpc protocol", { OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, "none: only OTLP over HTTP"],
  ];
  it.each(cases)("%s", (_, env, expected) => {
    const got = tracesExportFromEnv(env);
    if (got.export === "otlp") expect(got.endpoint).toBe(expected);
    else if (expected === "none") expect(got).toEqual({ export: "none" });
    else expect(got.problem).toContain(expected.slice("none: ".length));
  });
});
