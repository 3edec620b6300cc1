import { context, diag, DiagLogLevel, propagation, trace, type Tracer } from "@opentelemetry/api";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { Logger } from "./logger.js";

/**
 * Every span of kubedriver comes from this tracer. Until `startTracing`
 * registers a provider it is OpenTelemetry's no-op one: a span costs a few
 * object allocations and nothing is recorded or sent.
 */
export const tracer = (): Tracer => trace.getTracer("kubedriver");

/** What the OTEL_* variables ask for: OTLP export, or nothing (and why, when they asked for something we cannot do). */
export type TracesExport = { export: "otlp"; endpoint: string } | { export: "none"; problem?: string };

/**
 * Tracing is off unless the standard variables ask for an exporter:
 * `OTEL_TRACES_EXPORTER=otlp`, or, with OTEL_TRACES_EXPORTER unset, an
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`. (The
 * SDKs' own default of exporting to localhost:4318 with nothing configured
 * would be surprising in a service.) `OTEL_SDK_DISABLED=true` and
 * `OTEL_TRACES_EXPORTER=none` turn it off whatever else is set. Only OTLP over
 * HTTP is exported; a protocol of `grpc` is refused rather than sent to the
 * wrong port.
 */
export function tracesExportFromEnv(env: NodeJS.ProcessEnv): TracesExport {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return { export: "none" };
  const exporters = (env.OTEL_TRACES_EXPORTER ?? "").split(",").map((e) => e.trim().toLowerCase()).filter(Boolean);
  const signalEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const baseEndpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (exporters.includes("none")) return { export: "none" };
  if (exporters.length > 0 && !exporters.includes("otlp")) {
    return { export: "none", problem: `OTEL_TRACES_EXPORTER="${exporters.join(",")}" names no exporter kubedriver has (only otlp); traces are off` };
  }
  if (exporters.length === 0 && !signalEndpoint && !baseEndpoint) return { export: "none" };
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? "http/protobuf").trim();
  if (protocol !== "http/protobuf" && protocol !== "http/json") {
    return { export: "none", problem: `OTLP protocol "${protocol}" is not supported (only OTLP over HTTP, port 4318); traces are off` };
  }
  const endpoint = signalEndpoint || (baseEndpoint ? `${baseEndpoint.replace(/\/+$/, "")}/v1/traces` : "http://localhost:4318/v1/traces");
  return { export: "otlp", endpoint };
}

export interface Tracing {
  /** Sends the spans still buffered, then stops recording. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Instead of OTLP: tests pass an InMemorySpanExporter, exported span by span. */
  exporter?: SpanExporter;
}

/** A collector that is down fails every batch; one line per this long says so. */
const exportFailureLogIntervalMs = 60_000;

/**
 * What the SDK's error handler receives (failed exports, mostly), as one
 * warning line without a stack, at most once per interval; the failures in
 * between are counted in the next line. The SDK's own handler logs each
 * failure as a JSON dump of the error, stack included: one per batch, every
 * few seconds, for as long as the collector is away.
 */
export function exportFailureReporter(log: Logger, intervalMs = exportFailureLogIntervalMs, now = () => performance.now()): (error: unknown) => void {
  let loggedAt: number | undefined;
  let unlogged = 0;
  return (error) => {
    unlogged++;
    if (loggedAt !== undefined && now() - loggedAt < intervalMs) return;
    loggedAt = now();
    const message = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, " ").slice(0, 300);
    log.warn("OpenTelemetry: exporting traces failed; spans are dropped until the collector answers", {
      error: message,
      failures: unlogged,
      nextReportInSeconds: intervalMs / 1000,
    });
    unlogged = 0;
  };
}

/**
 * Registers a tracer provider, the W3C trace-context propagator and an
 * AsyncLocalStorage context manager when the environment asks for traces
 * (see `tracesExportFromEnv`), or when a test gives an exporter; otherwise
 * does nothing, and the SDK is not even loaded.
 */
export async function startTracing(env: NodeJS.ProcessEnv, log: Logger, options: TracingOptions = {}): Promise<Tracing | undefined> {
  const wanted = options.exporter ? undefined : tracesExportFromEnv(env);
  if (wanted?.export === "none") {
    if (wanted.problem) log.warn(wanted.problem);
    return undefined;
  }
  const [{ NodeTracerProvider }, { BatchSpanProcessor, SimpleSpanProcessor }, resources, core] = await Promise.all([
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/core"),
  ]);
  core.setGlobalErrorHandler(exportFailureReporter(log));
  let processor;
  if (options.exporter) processor = new SimpleSpanProcessor(options.exporter);
  else {
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    // The exporter reads the endpoint, headers and timeout from the same variables itself.
    processor = new BatchSpanProcessor(new OTLPTraceExporter());
  }
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ "service.name": "kubedriver" }))
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, read by the SDK from the process environment.
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register();
  // The SDK's other warnings (a bad OTEL_* value, a partial success) come here; without a logger they would vanish.
  diag.setLogger(
    {
      error: (message) => log.warn(`OpenTelemetry: ${message}`),
      warn: (message) => log.warn(`OpenTelemetry: ${message}`),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    DiagLogLevel.WARN,
  );
  if (wanted) log.info("exporting traces over OTLP/HTTP", { endpoint: withoutCredentials(wanted.endpoint) });
  return {
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
      diag.disable();
      core.setGlobalErrorHandler(core.loggingErrorHandler());
    },
  };
}

/** An endpoint as it may be logged: user and password, if any, left out. */
function withoutCredentials(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    url.username = "";
    url.password = "";
    url.search = "";
    return url.toString();
  } catch {
    return "(not a URL)";
  }
}
