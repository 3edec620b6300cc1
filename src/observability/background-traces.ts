import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from "@opentelemetry/api";
import { tracer } from "./tracing.js";

/**
 * Work kubedriver does on its own (a probe round, a view's list and watch),
 * as one trace: a root span whose Kubernetes requests become its children,
 * instead of one trace per request. Rooted whoever caused it: a probe round
 * started for one caller serves every caller, so it belongs to none.
 */
export interface BackgroundTrace {
  /** Runs `fn` with the span current, so the Kubernetes requests it starts (now or after an await) are its children. */
  run<T>(fn: () => T): T;
  /** Once; later calls do nothing. `failure` marks the span failed. */
  end(failure?: unknown): void;
}

function startBackgroundTrace(name: string, attributes: Attributes, onEnd?: (span: Span) => void): BackgroundTrace {
  const span = tracer().startSpan(name, { kind: SpanKind.INTERNAL, root: true, attributes });
  const active = trace.setSpan(ROOT_CONTEXT, span);
  let ended = false;
  return {
    run: (fn) => context.with(active, fn),
    end(failure) {
      if (ended) return;
      ended = true;
      onEnd?.(span);
      if (failure !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: failure instanceof Error ? failure.name : String(failure) });
      span.end();
    },
  };
}

/** A probe round: `kubedriver.health.round`, its namespace GETs under it; ended with the round's probes. */
export function traceProbeRound(round: number): { run<T>(fn: () => T): T; end(probes?: readonly { reachable: boolean }[]): void } {
  let outcome: readonly { reachable: boolean }[] | undefined;
  const traced = startBackgroundTrace("kubedriver.health.round", { "kubedriver.health.round": round }, (span) => {
    if (!outcome) return;
    span.setAttributes({ "kubedriver.health.probes": outcome.length, "kubedriver.health.unreachable": outcome.filter((p) => !p.reachable).length });
  });
  return {
    run: traced.run,
    end(probes) {
      outcome = probes;
      // A round abandoned (the monitor stopped) has no probes to report.
      traced.end(probes ? undefined : "abandoned");
    },
  };
}

/** What a live view's reflector keeps in sync. */
export interface ViewSyncTarget {
  client: { account: string };
  /** The resource in URLs: "replicationcontrollers". */
  kind: { resource: string };
  namespace: string;
}

/**
 * One sync of a namespace's view: `kubedriver.view.sync`, with the LIST (when
 * the view lists: at the start and after 410 Gone) and the WATCH that follows
 * under it, ended once the watch is open or the attempt failed.
 */
export function traceViewSync(target: ViewSyncTarget, listing: boolean): BackgroundTrace {
  return startBackgroundTrace("kubedriver.view.sync", {
    "kubedriver.account": target.client.account,
    "kubedriver.namespace": target.namespace,
    "kubedriver.kube.resource": target.kind.resource,
    "kubedriver.view.list": listing,
  });
}

/**
 * `fn` bound to no trace: a watch's events arrive on a connection that may
 * have been opened under any span, and belong to none of them.
 */
export function outsideTraces<F extends (...args: never[]) => unknown>(fn: F): F {
  return context.bind(ROOT_CONTEXT, fn);
}
