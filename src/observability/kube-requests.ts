import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { recordKubeRequest, resourceOf } from "./metrics.js";
import { tracer } from "./tracing.js";

/** What a Kubernetes request is about, as src/kube names it. */
export interface KubeRequestTarget {
  account: string;
  verb: string;
  kind: string;
  namespace?: string;
}

/** One HTTP request to an API server: its client span and its metrics. */
export interface KubeRequestObservation {
  /** Adds the span's W3C trace context to the outgoing request, so that an API server with tracing on continues it. */
  inject(setHeader: (name: string, value: string) => void): void;
  /** The HTTP status of the answer, as soon as it arrives. */
  answered(status: number): void;
  /** Once, when the request is over: `failure` names the error kind when it failed. */
  end(failure?: string): void;
}

/** Starts observing a request; its span is a child of whatever span is current (the RPC's). */
export function observeKubeRequest(target: KubeRequestTarget): KubeRequestObservation {
  const labels = { account: target.account, verb: target.verb, resource: resourceOf(target.kind) };
  const started = performance.now();
  const span = tracer().startSpan(`kube ${labels.verb} ${labels.resource}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      "kubedriver.account": target.account,
      ...(target.namespace ? { "kubedriver.namespace": target.namespace } : {}),
      "kubedriver.kube.verb": labels.verb,
      "kubedriver.kube.resource": labels.resource,
    },
  });
  const spanContext = trace.setSpan(context.active(), span);
  let status: number | undefined;
  return {
    inject: (setHeader) => propagation.inject(spanContext, undefined, { set: (_, key, value) => setHeader(key, value) }),
    answered(code) {
      status = code;
      span.setAttribute("http.response.status_code", code);
    },
    end(failure) {
      recordKubeRequest(labels, status, (performance.now() - started) / 1000);
      if (failure) span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
      span.end();
    },
  };
}
