import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
} from "@opentelemetry/semantic-conventions";
import { recordKubeRequest, resourceOf } from "./metrics.js";
import { tracer } from "./tracing.js";

/** What a Kubernetes request is about, as src/kube names it. */
export interface KubeRequestTarget {
  account: string;
  verb: string;
  kind: string;
  namespace?: string;
  /** The object's name, when the request is about one. */
  name?: string;
}

/** The HTTP request as it goes out. */
export interface OutgoingRequest {
  method: string;
  url: string;
  setHeader(name: string, value: string): void;
}

/** One HTTP request to an API server: its client span and its metrics. */
export interface KubeRequestObservation {
  /**
   * The request is being sent: its method and URL go on the span (as
   * OpenTelemetry's HTTP client conventions name them), and the span's W3C
   * trace context on its headers, so that an API server with tracing on
   * continues it.
   */
  sending(request: OutgoingRequest): void;
  /** The HTTP status of the answer, as soon as it arrives. */
  answered(status: number): void;
  /** Once, when the request is over: `failure` names the error kind when it failed. */
  end(failure?: string): void;
}

/** Starts observing a request; its span is a child of whatever span is current (an RPC's, a probe round's, a view sync's). */
export function observeKubeRequest(target: KubeRequestTarget): KubeRequestObservation {
  const labels = { account: target.account, verb: target.verb, resource: resourceOf(target.kind) };
  const started = performance.now();
  const span = tracer().startSpan(`kube ${labels.verb} ${labels.resource}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      "kubedriver.account": target.account,
      ...(target.namespace ? { "kubedriver.namespace": target.namespace } : {}),
      ...(target.name ? { "kubedriver.kube.name": target.name } : {}),
      "kubedriver.kube.verb": labels.verb,
      "kubedriver.kube.resource": labels.resource,
    },
  });
  const spanContext = trace.setSpan(context.active(), span);
  let status: number | undefined;
  let ended = false;
  return {
    sending(request) {
      propagation.inject(spanContext, undefined, { set: (_, key, value) => request.setHeader(key, value) });
      if (span.isRecording()) span.setAttributes(httpClientAttributes(request.method, request.url));
    },
    answered(code) {
      status = code;
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, code);
    },
    end(failure) {
      if (ended) return;
      ended = true;
      recordKubeRequest(labels, status, (performance.now() - started) / 1000);
      if (failure) {
        // As the HTTP conventions say: the status when the server answered with an error, else what went wrong.
        span.setAttribute(ATTR_ERROR_TYPE, status !== undefined && status >= 400 ? String(status) : failure);
        span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
      }
      span.end();
    },
  };
}

const knownMethods = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]);
/** Query keys whose values OpenTelemetry's `url.full` says to redact (signed-URL credentials). */
const redactedQueryKeys = ["X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature"];

/** `http.request.method`, `server.address`, `server.port` and `url.full`, with credentials in the URL redacted. */
export function httpClientAttributes(method: string, url: string): Record<string, string | number> {
  const upper = method.toUpperCase();
  const attributes: Record<string, string | number> = { [ATTR_HTTP_REQUEST_METHOD]: knownMethods.has(upper) ? upper : "_OTHER" };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return attributes;
  }
  if (parsed.username || parsed.password) {
    parsed.username = "REDACTED";
    parsed.password = parsed.password && "REDACTED";
  }
  for (const key of redactedQueryKeys) if (parsed.searchParams.has(key)) parsed.searchParams.set(key, "REDACTED");
  const defaultPort = parsed.protocol === "https:" ? 443 : 80;
  return {
    ...attributes,
    [ATTR_SERVER_ADDRESS]: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    [ATTR_SERVER_PORT]: parsed.port ? Number(parsed.port) : defaultPort,
    [ATTR_URL_FULL]: parsed.toString(),
  };
}
