import { CoreV1Api, Observable, type ConfigurationOptions, type KubeConfig } from "@kubernetes/client-node";
import { findKubedriverError, isUnavailable } from "../common/errors.js";
import { AgentPool } from "./agent-pool.js";
import { toCoreError, type CallTarget } from "./errors.js";
import { checkedResponse } from "./response-check.js";

export interface KubeCallOptions {
  /** Give up after this long; default the client's request timeout. */
  timeoutMs?: number;
  /** Abort when the caller goes away (e.g. a cancelled gRPC call). */
  signal?: AbortSignal;
  /** Retries of a read the API server could not serve; default `readRetries`. Mutations never retry. */
  retries?: number;
}

export interface KubeClientDefaults {
  /** Deadline of one call, retries included, when the caller gives none shorter. */
  requestTimeoutMs: number;
  /** How often a get or list is retried after UNAVAILABLE (5xx, 429, connection refused or reset). */
  readRetries: number;
  /** First backoff; each retry doubles it, up to `maxBackoffMs`, and waits a random share of it. */
  backoffMs: number;
  maxBackoffMs: number;
}

const clientDefaults: KubeClientDefaults = { requestTimeoutMs: 30_000, readRetries: 3, backoffMs: 100, maxBackoffMs: 2_000 };

/** Only these verbs may be repeated without changing what a first, lost attempt did. */
const idempotentVerbs = new Set(["get", "list"]);

/**
 * One account's narrow door to its Kubernetes API. Every call goes through
 * `call`, which gives it a deadline (never later than its caller's), retries
 * reads the API server could not serve with jittered backoff, and converts
 * its failure into a core error naming the account and object.
 */
export class KubeClient {
  readonly core: CoreV1Api;

  constructor(
    readonly account: string,
    readonly kubeConfig: KubeConfig,
    defaults: Partial<KubeClientDefaults> = {},
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.defaults = { ...clientDefaults, ...defaults };
  }

  private readonly defaults: KubeClientDefaults;
  private readonly agents = new AgentPool();

  async call<T>(
    target: Omit<CallTarget, "account">,
    fn: (options: ConfigurationOptions) => Promise<T>,
    opts: KubeCallOptions = {},
  ): Promise<T> {
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? this.defaults.requestTimeoutMs);
    const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
    const retries = idempotentVerbs.has(target.verb) ? (opts.retries ?? this.defaults.readRetries) : 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(requestOptions(signal, this.agents));
      } catch (err) {
        const core = toCoreError(err, { ...target, account: this.account });
        if (attempt >= retries || !worthRetrying(core) || signal.aborted) throw core;
        // Full jitter: replicas and callers retrying together do not hit the API server in step.
        const ceiling = Math.min(this.defaults.maxBackoffMs, this.defaults.backoffMs * 2 ** attempt);
        if (!(await sleep(Math.random() * ceiling, signal))) throw core;
      }
    }
  }
}

/** The API server could not serve it now (5xx, 429, a refused or reset connection); a TLS failure will not pass by itself. */
function worthRetrying(err: unknown): boolean {
  return isUnavailable(err) && !/CERT|SSL|TLS|SELF_SIGNED/.test(findKubedriverError(err)?.reason ?? "");
}

/**
 * Request options that abort on `signal` and reuse connections. The
 * object-style APIs hand these to the observable layer, which expects
 * client-node's own Observable from middleware, not a promise.
 */
function requestOptions(signal: AbortSignal, agents: AgentPool): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (ctx) => {
          ctx.setSignal(signal);
          // Authentication has run by now and chosen the request's TLS options.
          const agent = agents.reuse(ctx.getAgent());
          if (agent) ctx.setAgent(agent);
          return new Observable(Promise.resolve(ctx));
        },
        post: (ctx) => new Observable(checkedResponse(ctx)),
      },
    ],
    middlewareMergeStrategy: "append",
  };
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (slept: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", aborted);
      resolve(slept);
    };
    const aborted = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener("abort", aborted, { once: true });
  });
}
