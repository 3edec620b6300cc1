import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type TextMapGetter } from "@opentelemetry/api";
import { rpcMetrics, type RpcLabels, type RpcType } from "./metrics.js";
import { tracer } from "./tracing.js";

/** The parts of grpc-js's Metadata read here: the caller's `traceparent` and `tracestate`. */
export interface MetadataLike {
  get(key: string): (string | Buffer)[];
  getMap(): Record<string, unknown>;
}

const metadataGetter: TextMapGetter<MetadataLike> = {
  keys: (carrier) => Object.keys(carrier.getMap()),
  get: (carrier, key) => {
    const values = carrier.get(key).filter((v): v is string => typeof v === "string");
    return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
  },
};

/** Go's codes.Code.String() spellings, which go-grpc-prometheus puts in grpc_code. */
const goCodeNames = [
  "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists", "PermissionDenied",
  "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
  "Unauthenticated",
];

/** The codes that mean the server failed, not the caller (OpenTelemetry's rule for gRPC server spans). */
const serverFaultCodes = new Set([2, 4, 12, 13, 14, 15]);

/** `/kubedriver.v1.Accounts/ListAccounts` → service and method. */
export function rpcLabelsOf(path: string, type: RpcType): RpcLabels {
  const [, service = "", method = ""] = /^\/([^/]*)\/([^/]*)$/.exec(path) ?? [];
  return { grpc_type: type, grpc_service: service, grpc_method: method };
}

/** What the adapters report about one RPC: its metrics and its server span. */
export interface RpcObservation {
  /** Runs `fn` with the RPC's span current, so that the Kubernetes requests it makes become its children. */
  run<T>(fn: () => T): T;
  received(): void;
  sent(): void;
  /** The account and namespace the request names, as span attributes (never as metric labels: the caller chose them). */
  describe(request: unknown): void;
  /** The status sent; once per RPC. */
  end(code: number): void;
}

/**
 * Starts observing an RPC. `path` is grpc-js's, which reaches a handler only
 * when it names a method of a registered service definition, so the labels
 * are bounded by the definitions.
 */
export function observeRpc(path: string, type: RpcType, metadata: MetadataLike): RpcObservation {
  const labels = rpcLabelsOf(path, type);
  const started = performance.now();
  rpcMetrics.started(labels);
  const parent = propagation.extract(ROOT_CONTEXT, metadata, metadataGetter);
  const span = tracer().startSpan(
    `${labels.grpc_service}/${labels.grpc_method}`,
    { kind: SpanKind.SERVER, attributes: { "rpc.system": "grpc", "rpc.service": labels.grpc_service, "rpc.method": labels.grpc_method } },
    parent,
  );
  const active = trace.setSpan(parent, span);
  let ended = false;
  return {
    run: (fn) => context.with(active, fn),
    received: () => rpcMetrics.received(labels),
    sent: () => rpcMetrics.sent(labels),
    describe(request) {
      if (!span.isRecording() || typeof request !== "object" || request === null) return;
      const { account, namespace } = request as { account?: unknown; namespace?: unknown };
      if (typeof account === "string" && account) span.setAttribute("kubedriver.account", account.slice(0, 253));
      if (typeof namespace === "string" && namespace) span.setAttribute("kubedriver.namespace", namespace.slice(0, 253));
    },
    end(code) {
      if (ended) return;
      ended = true;
      rpcMetrics.handled(labels, goCodeNames[code] ?? String(code), (performance.now() - started) / 1000);
      span.setAttribute("rpc.grpc.status_code", code);
      if (serverFaultCodes.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: goCodeNames[code] });
      span.end();
    },
  };
}
