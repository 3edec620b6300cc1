import { Metadata } from "@grpc/grpc-js";
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/observability/logger.js";
import { startTracing, tracesExportFromEnv, type Tracing } from "../../src/observability/tracing.js";
import { eventually, onRealCluster, startTestCluster, type TestCluster } from "../support/cluster.js";
import { call } from "../support/grpc.js";
import { startKubedriverOn, type KubedriverOn } from "../support/kubedriver.js";

const exporter = new InMemorySpanExporter();
let tracing: Tracing | undefined;
let cluster: TestCluster;
let kd: KubedriverOn;
let namespace: string;

beforeAll(async () => {
  tracing = await startTracing({}, silentLogger, { exporter });
  cluster = await startTestCluster();
  namespace = cluster.uniqueNamespace("traces");
  kd = await startKubedriverOn(cluster, { accounts: [{ name: "acct", namespaces: [namespace] }], kubernetes: "healthCheckIntervalSeconds: 3600" });
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
const callerSpanId = "00f067aa0ba902b7";

describe("OpenTelemetry traces", () => {
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
