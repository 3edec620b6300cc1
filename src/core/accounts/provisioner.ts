import { catchError, defer, EMPTY, from, mergeMap, Subject, takeUntil, timer, type Subscription } from "rxjs";
import type { Logger } from "../../observability/logger.js";
import { recordProvisioning } from "../../observability/metrics.js";
import type { Account } from "./account.js";
import { provisionAccount } from "./provision.js";
import type { ProvisioningResult } from "./provisioning-result.js";

export type Reachability = "unknown" | "reachable" | "unreachable";

export interface AccountState {
  reachability: Reachability;
  /** Why the API server is unreachable, when it is. */
  reachabilityError?: string;
  lastProvisioning?: ProvisioningResult;
}

export interface ProvisionerOptions {
  log: Logger;
  /** Accounts provisioned at once at start-up. */
  concurrency?: number;
  /** Waits between attempts for an unreachable account; the last one repeats. */
  retryDelaysMs?: number[];
}

/**
 * Provisions every account in the background, never before the port opens,
 * and keeps retrying an account whose cluster is unreachable until it
 * answers. One run per account at a time: a sync that arrives during a run
 * waits for it, then runs on the state it left.
 */
export class AccountProvisioner {
  private readonly states = new Map<string, AccountState>();
  private readonly running = new Map<string, Promise<ProvisioningResult>>();
  private readonly stop$ = new Subject<void>();
  private readonly retries = new Map<string, Subscription>();
  private readonly retryAttempts = new Map<string, number>();
  private readonly retryDelaysMs: number[];

  constructor(
    private readonly accounts: readonly Account[],
    private readonly options: ProvisionerOptions,
  ) {
    this.retryDelaysMs = options.retryDelaysMs ?? [1_000, 2_000, 5_000, 10_000, 30_000];
    for (const a of accounts) this.states.set(a.name, { reachability: "unknown" });
  }

  /** Starts provisioning every account; returns at once. */
  start(): void {
    from(this.accounts)
      .pipe(
        mergeMap(
          // One account's failure must not end the stream, or the accounts after it would never be provisioned.
          (account) => defer(() => this.run(account)).pipe(catchError((err: unknown) => this.unexpected(account, err))),
          this.options.concurrency ?? 32,
        ),
        takeUntil(this.stop$),
      )
      .subscribe();
  }

  stop(): void {
    this.stop$.next();
    for (const r of this.retries.values()) r.unsubscribe();
    this.retries.clear();
  }

  state(account: string): AccountState {
    return this.states.get(account) ?? { reachability: "unknown" };
  }

  /** Provisions one account now and reports what it did. */
  sync(account: Account): Promise<ProvisioningResult> {
    return this.run(account);
  }

  private run(account: Account): Promise<ProvisioningResult> {
    const previous = this.running.get(account.name) ?? Promise.resolve(undefined);
    const next = previous
      .catch(() => undefined)
      .then(() => provisionAccount(account))
      .then((result) => {
        this.record(account, result);
        return result;
      });
    this.running.set(account.name, next);
    // Both branches settle this derived promise: a rejection of `next` is its caller's to handle, and must not
    // surface a second time here as an unhandled rejection (which ends the process).
    const forget = () => {
      if (this.running.get(account.name) === next) this.running.delete(account.name);
    };
    next.then(forget, forget);
    return next;
  }

  /** A failure provisioning did not turn into a per-namespace outcome: a bug, logged, never fatal. */
  private unexpected(account: Account, err: unknown) {
    this.options.log.error("provisioning failed unexpectedly", { account: account.name, err });
    return EMPTY;
  }

  private record(account: Account, result: ProvisioningResult): void {
    const log = this.options.log.child({ account: account.name });
    const before = this.state(account.name).reachability;
    const reachability: Reachability = result.unreachable ? "unreachable" : "reachable";
    const reachabilityError = result.unreachable ? result.namespaces[0]?.error?.message : undefined;
    this.states.set(account.name, { reachability, reachabilityError, lastProvisioning: result });
    recordProvisioning(account.name, result);

    if (reachability !== before) {
      if (reachability === "unreachable") log.warn("account unreachable; provisioning retries until it answers", { error: reachabilityError });
      else if (before === "unreachable") log.info("account reachable again");
    }
    for (const ns of result.namespaces) {
      if (ns.action === "created") log.info("namespace created", { namespace: ns.namespace });
      if (ns.action === "failed" && !result.unreachable) log.warn("namespace not provisioned", { namespace: ns.namespace, error: ns.error?.message });
      for (const s of ns.pullSecrets) {
        if (s.action === "created" || s.action === "updated") log.info(`image pull secret ${s.action}`, { namespace: ns.namespace, secret: s.name });
        if (s.action === "failed") log.warn("image pull secret not provisioned", { namespace: ns.namespace, secret: s.name, error: s.error?.message });
      }
    }
    if (result.unreachable) this.scheduleRetry(account);
    else {
      this.retries.get(account.name)?.unsubscribe();
      this.retries.delete(account.name);
      this.retryAttempts.delete(account.name);
    }
  }

  private scheduleRetry(account: Account): void {
    const attempt = (this.retryAttempts.get(account.name) ?? 0) + 1;
    this.retryAttempts.set(account.name, attempt);
    const delay = this.retryDelaysMs[Math.min(attempt, this.retryDelaysMs.length) - 1]!;
    this.retries.get(account.name)?.unsubscribe();
    this.retries.set(
      account.name,
      timer(delay)
        .pipe(takeUntil(this.stop$))
        .subscribe(() => {
          this.retries.delete(account.name);
          this.run(account).catch((err: unknown) => this.unexpected(account, err));
        }),
    );
  }
}
