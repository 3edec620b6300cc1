import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type TextMapGetter } from "@opentelemetry/api";
import type { LogFields } from "./logger.js";
import { goCodeNames, rpcMetrics, type RpcLabels, type RpcType } from "./metrics.js";
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
  /** What the decoded request names (see `subjectOf`), on the span; never as metric labels: the caller chose them. */
  describe(request: unknown): void;
  /** The answer of a call that succeeded: a create or clone names its new object only there. */
  responded(response: unknown): void;
  /** What the request (and its answer) named, for the call's log line: the audit trail. */
  subject(): LogFields;
  /** The status sent; once per RPC. */
  end(code: number): void;
}

/**
 * The fields of kubedriver's request messages that say what a call is about,
 * as the log line names them; the same on every service, so one list serves
 * every RPC. Nothing else of a request is ever read here: no spec, no env
 * value, no label.
 */
const subjectFields = ["account", "namespace", "targetNamespace", "name", "names", "source", "serverGroup", "requestId"] as const;
/** Longer than any name or request id kubedriver accepts, so only a request that will be refused is cut. */
const maxValueLength = 253;
/** A TerminateInstances of 500 pods is logged with the first names and the count. */
const maxNames = 20;

/**
 * What a request names (account, namespace, object names, request id), each
 * bounded, for an audit line; a create or clone names its object only in its
 * answer (`serverGroup.name`), which is taken when the request names no object.
 */
export function subjectOf(request: unknown, response?: unknown): LogFields {
  const subject: LogFields = {};
  if (isRecord(request)) {
    for (const key of subjectFields) {
      const value = request[key];
      if (typeof value === "string" && value) subject[key] = value.slice(0, maxValueLength);
      else if (Array.isArray(value) && value.length > 0) {
        subject[key] = value.slice(0, maxNames).map((v) => (typeof v === "string" ? v.slice(0, maxValueLength) : "?"));
        if (value.length > maxNames) subject[`${key}Count`] = value.length;
      }
    }
  }
  const created = isRecord(response) && isRecord(response.serverGroup) ? response.serverGroup.name : undefined;
  if (subject.name === undefined && subject.serverGroup === undefined && typeof created === "string" && created) subject.name = created.slice(0, maxValueLength);
  return subject;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** `requestId` → `kubedriver.request_id`: OpenTelemetry spells attribute names in snake case. */
function attributeOf(key: string): string {
  return `kubedriver.${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
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
  let request: unknown;
  let response: unknown;
  let described: LogFields = {};
  const describeSpan = () => {
    described = subjectOf(request, response);
    if (!span.isRecording()) return;
    for (const [key, value] of Object.entries(described)) span.setAttribute(attributeOf(key), value as string | string[] | number);
  };
  return {
    run: (fn) => context.with(active, fn),
    received: () => rpcMetrics.received(labels),
    sent: () => rpcMetrics.sent(labels),
    describe(decoded) {
      request = decoded;
      describeSpan();
    },
    responded(answer) {
      response = answer;
      describeSpan();
    },
    subject: () => described,
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
