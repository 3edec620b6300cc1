import { AutoscalingV2Api, CoreV1Api, Observable, type ConfigurationOptions, type KubeConfig } from "@kubernetes/client-node";
import { CancelledError, DeadlineExceededError, findKubedriverError, isCancelled, isUnavailable } from "../common/errors.js";
import { Limiter } from "../common/limiter.js";
import { sleep } from "../common/sleep.js";
import { outsideTraces } from "../observability/background-traces.js";
import { observeKubeRequest, type KubeRequestObservation } from "../observability/kube-requests.js";
import { recordOversized, recordUnreadableWatchLine } from "../observability/metrics.js";
import { AgentPool } from "./agent-pool.js";
import { BoundedHttpLibrary, defaultReadLimits, ResponseTooLargeError, type ReadLimits } from "./bounded-http.js";
import { describeTarget, isTlsFailure, toCoreError, type CallTarget } from "./errors.js";
import type { Kind } from "./kinds.js";
import { checkedResponse } from "./response-check.js";
import { identify, userAgent } from "./user-agent.js";
import { streamWatch } from "./watch-stream.js";

export interface KubeCallOptions {
  /** Give up after this long; default the client's request timeout. */
  timeoutMs?: number;
  /** Abort when the caller goes away (e.g. a cancelled gRPC call). */
  signal?: AbortSignal;
  /** Retries of a read the API server could not serve; default `readRetries`. Mutations never retry. */
  retries?: number;
  /**
   * `probe`: a health probe, with its own bound and queue, so that it never
   * waits behind callers' requests and a busy account is not reported unreachable.
   */
  lane?: "callers" | "probe";
  /**
   * Read at most this many bytes of the answer and answer with them (for
   * text, such as a log, whose head is worth having); default: the client's
   * `readLimits.maxResponseBytes`, past which the call fails.
   */
  readAtMost?: number;
}

export interface KubeClientDefaults {
  /** Deadline of one call, retries included, when the caller gives none shorter. */
  requestTimeoutMs: number;
  /** How often a get or list is retried after UNAVAILABLE (5xx, 429, connection refused or reset). */
  readRetries: number;
  /** First backoff; each retry doubles it, up to `maxBackoffMs`, and waits a random share of it. */
  backoffMs: number;
  maxBackoffMs: number;
  /**
   * Requests of callers' calls in flight toward the API server at once; the
   * rest wait in a first-come, first-served queue within their deadline.
   */
  maxConcurrentRequests: number;
  /** Health probes in flight at once, apart from callers' requests. */
  maxConcurrentProbes: number;
  /** The most kubedriver reads of one answer and of one watch event (see ReadLimits). */
  readLimits: ReadLimits;
}

const clientDefaults: KubeClientDefaults = {
  requestTimeoutMs: 30_000,
  readRetries: 3,
  backoffMs: 100,
  maxBackoffMs: 2_000,
  maxConcurrentRequests: 16,
  maxConcurrentProbes: 8,
  readLimits: defaultReadLimits,
};

/** Only these verbs may be repeated without changing what a first, lost attempt did. */
const idempotentVerbs = new Set(["get", "list"]);

/**
 * One account's narrow door to its Kubernetes API. Every call goes through
 * `call`, which gives it a deadline (never later than its caller's), bounds
 * how many requests are in flight at once (each attempt takes a slot),
 * retries reads the API server could not serve with jittered backoff, and
 * converts its failure into a core error naming the account and object.
 * `call` is for requests that end; a watch must not hold a slot.
 */
export class KubeClient {
  readonly core: CoreV1Api;
  readonly autoscaling: AutoscalingV2Api;

  constructor(
    readonly account: string,
    readonly kubeConfig: KubeConfig,
    defaults: Partial<KubeClientDefaults> = {},
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.autoscaling = kubeConfig.makeApiClient(AutoscalingV2Api);
    this.defaults = { ...clientDefaults, ...defaults };
    this.lanes = {
      callers: new Limiter(this.defaults.maxConcurrentRequests),
      probe: new Limiter(this.defaults.maxConcurrentProbes),
    };
    this.http = new BoundedHttpLibrary(this.defaults.readLimits.maxResponseBytes);
  }

  private readonly defaults: KubeClientDefaults;
  private readonly agents = new AgentPool();
  private readonly http: BoundedHttpLibrary;
  private readonly lanes: Record<NonNullable<KubeCallOptions["lane"]>, Limiter>;
  /** The newest resourceVersion each kind in each namespace was written at by this process. */
  private readonly written = new Map<string, bigint>();

  /**
   * The resourceVersion of this process's latest write of `kind` in
   * `namespace`, so that a reader of a watch-fed view can wait until the
   * view has seen it (read-your-writes). Versions are compared as numbers:
   * kube-apiserver's are etcd revisions. Writes are keyed by the name their
   * call gave its target, which every call of a kind takes from the kind.
   */
  writtenVersion(kind: Kind, namespace: string): bigint | undefined {
    return this.written.get(`${kind.name}\u0000${namespace}`);
  }

  /** Releases the account's connections; for a client a reload replaced, once its calls have ended. */
  close(): void {
    this.agents.destroy();
  }

  private noteWrite(target: Omit<CallTarget, "account">, result: unknown): void {
    const version = resourceVersionOf(result);
    if (version === undefined || !target.namespace) return;
    const key = `${target.kind}\u0000${target.namespace}`;
    const known = this.written.get(key);
    if (known === undefined || version > known) this.written.set(key, version);
  }

  /**
   * Opens a watch (`GET path?watch=true&…`) with this account's credentials
   * and connections, and calls `onEvent` for each event until the server
   * ends it, `signal` aborts, or it fails. Resolves "ended" when it ended
   * cleanly, "expired" when the API server no longer has the requested
   * resourceVersion (410 Gone: list again); rejects with a core error naming
   * the account (an event past `readLimits.maxWatchLineBytes` among them,
   * UNAVAILABLE: nothing of it is kept). A watch holds no request slot: it
   * lasts as long as the API server lets it.
   */
  async watch(
    target: Omit<CallTarget, "account">,
    path: string,
    query: Record<string, string>,
    onEvent: (type: string, object: unknown) => void,
    signal: AbortSignal,
    onOpen: () => void = () => {},
  ): Promise<"ended" | "expired"> {
    const full = { ...target, account: this.account };
    // Observed until the API server answers: the request is then over, and the events flow.
    const request = observeKubeRequest(full);
    let answered = false;
    try {
      const cluster = this.kubeConfig.getCurrentCluster();
      if (!cluster) throw new Error("the kubeconfig has no current cluster");
      const url = new URL(cluster.server.replace(/\/+$/, "") + path);
      url.searchParams.set("watch", "true");
      for (const [key, value] of Object.entries(query)) if (value !== "") url.searchParams.set(key, value);
      const options = await this.kubeConfig.applyToFetchOptions({});
      identify(options.headers);
      const headers = Object.fromEntries((options.headers as unknown as { entries(): Iterable<[string, string]> }).entries());
      request.sending({ method: "GET", url: url.toString(), setHeader: (name, value) => (headers[name] = value) });
      await streamWatch({
        url,
        headers,
        agent: this.agents.reuse(options.agent as never),
        signal,
        maxLineBytes: this.defaults.readLimits.maxWatchLineBytes,
        opened: () => {
          answered = true;
          request.answered(200);
          request.end();
          onOpen();
        },
        event: outsideTraces(onEvent),
        unreadable: () => recordUnreadableWatchLine(this.account, target.kind),
      });
      if (!answered) request.end();
      return "ended";
    } catch (err) {
      const status = (err as { code?: unknown }).code;
      if (!answered && typeof status === "number") request.answered(status);
      if (signal.aborted || status === 410) {
        if (!answered) request.end();
        return signal.aborted ? "ended" : "expired";
      }
      if (err instanceof ResponseTooLargeError) recordOversized(this.account, target.kind, err.what);
      const core = toCoreError(err, full);
      if (!answered) request.end(findKubedriverError(core)?.kind ?? "Unknown");
      throw core;
    }
  }

  async call<T>(
    target: Omit<CallTarget, "account">,
    fn: (options: ConfigurationOptions) => Promise<T>,
    opts: KubeCallOptions = {},
  ): Promise<T> {
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? this.defaults.requestTimeoutMs);
    const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
    const retries = idempotentVerbs.has(target.verb) ? (opts.retries ?? this.defaults.readRetries) : 0;
    const full = { ...target, account: this.account };
    const lane = this.lanes[opts.lane ?? "callers"];
    for (let attempt = 0; ; attempt++) {
      const slot = await lane.acquire(signal);
      if ("refused" in slot) throw gaveUpWaiting(full, lane, signal.reason);
      let core: unknown;
      const request = observeKubeRequest(full);
      try {
        const httpApi = opts.readAtMost === undefined ? this.http : new BoundedHttpLibrary(opts.readAtMost, true);
        const result = await fn(requestOptions(signal, this.agents, httpApi, request));
        request.end();
        if (!idempotentVerbs.has(target.verb)) this.noteWrite(target, result);
        return result;
      } catch (err) {
        if (err instanceof ResponseTooLargeError) recordOversized(this.account, target.kind, err.what);
        core = toCoreError(err, full, signal.reason);
        request.end(findKubedriverError(core)?.kind ?? "Unknown");
      } finally {
        slot.release();
      }
      if (attempt >= retries || !worthRetrying(core) || signal.aborted) throw core;
      // Full jitter: replicas and callers retrying together do not hit the API server in step.
      const ceiling = Math.min(this.defaults.maxBackoffMs, this.defaults.backoffMs * 2 ** attempt);
      if (!(await sleep(Math.random() * ceiling, signal))) throw core;
    }
  }
}

/** The URL client-node's Watch requests for `path` and `query`. */
function resourceVersionOf(result: unknown): bigint | undefined {
  const version = (result as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
  return version && /^\d+$/.test(version) ? BigInt(version) : undefined;
}

/** The signal aborted while the call waited for a slot: the caller went away, or the deadline passed. */
function gaveUpWaiting(target: CallTarget, lane: Limiter, reason: unknown): Error {
  const where = describeTarget(target);
  if (isCancelled(reason)) return new CancelledError(`${where}: cancelled by the caller while waiting to be sent`, { cause: reason });
  return new DeadlineExceededError(
    `${where}: not sent within the deadline; ${lane.inFlight} requests of the account were in flight and ${lane.queued} more waiting`,
    { cause: reason instanceof Error ? reason : undefined },
  );
}

/** The API server could not serve it now (5xx, 429, a refused or reset connection); a TLS failure will not pass by itself. */
function worthRetrying(err: unknown): boolean {
  return isUnavailable(err) && !isTlsFailure(findKubedriverError(err)?.reason ?? "");
}

/**
 * Request options that abort on `signal` and reuse connections. The
 * object-style APIs hand these to the observable layer, which expects
 * client-node's own Observable from middleware, not a promise.
 */
function requestOptions(signal: AbortSignal, agents: AgentPool, httpApi: BoundedHttpLibrary, request: KubeRequestObservation): ConfigurationOptions {
  return {
    httpApi,
    middleware: [
      {
        pre: (ctx) => {
          ctx.setSignal(signal);
          ctx.setHeaderParam("User-Agent", userAgent);
          request.sending({ method: ctx.getHttpMethod(), url: ctx.getUrl(), setHeader: (name, value) => ctx.setHeaderParam(name, value) });
          // Authentication has run by now and chosen the request's TLS options.
          const agent = agents.reuse(ctx.getAgent());
          if (agent) ctx.setAgent(agent);
          return new Observable(Promise.resolve(ctx));
        },
        post: (ctx) => {
          request.answered(ctx.httpStatusCode);
          return new Observable(checkedResponse(ctx));
        },
      },
    ],
    middlewareMergeStrategy: "append",
  };
}
