import { CoreV1Api, Observable, type ConfigurationOptions, type KubeConfig } from "@kubernetes/client-node";
import { toCoreError, type CallTarget } from "./errors.js";

export interface KubeCallOptions {
  /** Give up after this long; default the client's request timeout. */
  timeoutMs?: number;
  /** Abort when the caller goes away (e.g. a cancelled gRPC call). */
  signal?: AbortSignal;
}

/**
 * One account's narrow door to its Kubernetes API. Every call goes through
 * `call`, which gives it a deadline and converts its failure into a core
 * error naming the account and object.
 */
export class KubeClient {
  readonly core: CoreV1Api;

  constructor(
    readonly account: string,
    readonly kubeConfig: KubeConfig,
    private readonly defaults: { requestTimeoutMs: number } = { requestTimeoutMs: 30_000 },
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  async call<T>(
    target: Omit<CallTarget, "account">,
    fn: (options: ConfigurationOptions) => Promise<T>,
    opts: KubeCallOptions = {},
  ): Promise<T> {
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? this.defaults.requestTimeoutMs);
    const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
    // The object-style APIs hand these options to the observable layer, which
    // expects client-node's own Observable from middleware, not a promise.
    const options: ConfigurationOptions = {
      middleware: [
        {
          pre: (ctx) => {
            ctx.setSignal(signal);
            return new Observable(Promise.resolve(ctx));
          },
          post: (ctx) => new Observable(Promise.resolve(ctx)),
        },
      ],
      middlewareMergeStrategy: "append",
    };
    try {
      return await fn(options);
    } catch (err) {
      throw toCoreError(err, { ...target, account: this.account });
    }
  }
}
