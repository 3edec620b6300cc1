import { catchError, defer, EMPTY, filter, firstValueFrom, mergeMap, Subject, takeUntil, timer, type Subscription } from "rxjs";
import type { Logger } from "../../observability/logger.js";
import { recordProvisioning } from "../../observability/metrics.js";
import type { Account } from "./account.js";
import { type AccountChanges, isEmptyScope, type ProvisioningScope } from "./changes.js";
import { provisionAccount } from "./provision.js";
import type { NamespaceOutcome, ProvisioningResult } from "./provisioning-result.js";

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
 * waits for it, then runs on the state it left. After a reload (`apply`),
 * accounts added are provisioned, accounts changed provisioned in what
 * changed only, and accounts removed forgotten: nothing in their cluster is
 * touched, and a run already on its way is not recorded.
 */
export class AccountProvisioner {
  private readonly current = new Map<string, Account>();
  private readonly jobs = new Subject<{ account: Account; scope: ProvisioningScope }>();
  private readonly states = new Map<string, AccountState>();
  private readonly running = new Map<string, Promise<ProvisioningResult>>();
  private readonly stop$ = new Subject<void>();
  private readonly retries = new Map<string, Subscription>();
  private readonly retryAttempts = new Map<string, number>();
  private readonly retryDelaysMs: number[];
  /** Runs waiting for their turn, by account. */
  private readonly queued = new Map<string, number>();
  /** An account's name each time one of its runs ends; completed by `stop()`. */
  private readonly settled = new Subject<string>();
  private stopped = false;

  constructor(
    private readonly accounts: readonly Account[],
    private readonly options: ProvisionerOptions,
  ) {
    this.retryDelaysMs = options.retryDelaysMs ?? [1_000, 2_000, 5_000, 10_000, 30_000];
    for (const a of accounts) {
      this.current.set(a.name, a);
      this.states.set(a.name, { reachability: "unknown" });
    }
  }

  /** Starts provisioning every account; returns at once. */
  start(): void {
    this.jobs
      .pipe(
        mergeMap(
          // One account's failure must not end the stream, or the accounts after it would never be provisioned.
          ({ account, scope }) =>
            defer(() => {
              this.dequeue(account.name);
              return this.run(account, scope);
            }).pipe(catchError((err: unknown) => this.unexpected(account, err))),
          this.options.concurrency ?? 32,
        ),
        takeUntil(this.stop$),
      )
      .subscribe();
    for (const account of this.accounts) this.enqueue(account, "all");
  }

  /**
   * Resolves once no provisioning of the account is queued or running, so
   * that a namespace about to be created is not taken for a missing one; at
   * once when none is.
   */
  async idle(name: string): Promise<void> {
    while (!this.stopped && ((this.queued.get(name) ?? 0) > 0 || this.running.has(name))) {
      await firstValueFrom(this.settled.pipe(filter((settled) => settled === name)), { defaultValue: undefined });
    }
  }

  private enqueue(account: Account, scope: ProvisioningScope): void {
    this.queued.set(account.name, (this.queued.get(account.name) ?? 0) + 1);
    this.jobs.next({ account, scope });
  }

  private dequeue(name: string): void {
    const left = (this.queued.get(name) ?? 1) - 1;
    if (left > 0) this.queued.set(name, left);
    else this.queued.delete(name);
  }

  /** Follows a reload: see the class comment. */
  apply(changes: AccountChanges): void {
    for (const account of changes.removed) {
      this.current.delete(account.name);
      this.states.delete(account.name);
      this.cancelRetry(account.name);
    }
    for (const account of changes.added) {
      this.current.set(account.name, account);
      this.states.set(account.name, { reachability: "unknown" });
      this.enqueue(account, "all");
    }
    for (const { after, scope } of changes.changed) {
      this.current.set(after.name, after);
      if (scope === "all") this.states.set(after.name, { reachability: "unknown" });
      // A retry pending for the old credentials would run on them.
      const retrying = this.retries.has(after.name);
      this.cancelRetry(after.name);
      if (retrying) this.enqueue(after, "all");
      else if (!isEmptyScope(scope)) this.enqueue(after, scope);
    }
  }

  stop(): void {
    this.stop$.next();
    this.stopped = true;
    // Ends every `idle` wait; a run still finishing emits into nothing.
    this.settled.complete();
    for (const r of this.retries.values()) r.unsubscribe();
    this.retries.clear();
  }

  private cancelRetry(name: string): void {
    this.retries.get(name)?.unsubscribe();
    this.retries.delete(name);
    this.retryAttempts.delete(name);
  }

  state(account: string): AccountState {
    return this.states.get(account) ?? { reachability: "unknown" };
  }

  /** Provisions one account now and reports what it did. */
  sync(account: Account): Promise<ProvisioningResult> {
    return this.run(account);
  }

  private run(account: Account, scope: ProvisioningScope = "all"): Promise<ProvisioningResult> {
    const previous = this.running.get(account.name) ?? Promise.resolve(undefined);
    const next = previous
      .catch(() => undefined)
      .then(() => provisionAccount(account, scope))
      .then((result) => {
        // A reload removed or replaced the account meanwhile: its state is the new account's.
        if (this.current.get(account.name) === account) this.record(account, scope === "all" ? result : this.merged(account, result));
        return result;
      });
    this.running.set(account.name, next);
    // Both branches settle this derived promise: a rejection of `next` is its caller's to handle, and must not
    // surface a second time here as an unhandled rejection (which ends the process).
    const forget = () => {
      if (this.running.get(account.name) === next) this.running.delete(account.name);
      this.settled.next(account.name);
    };
    next.then(forget, forget);
    return next;
  }

  /** A partial run's outcomes over the last full one's, so the state still has one entry per namespace. */
  private merged(account: Account, partial: ProvisioningResult): ProvisioningResult {
    const last = this.state(account.name).lastProvisioning;
    const namespaces = account.namespaces.flatMap((ns): NamespaceOutcome[] => {
      const fresh = partial.namespaces.find((n) => n.namespace === ns);
      const old = last?.namespaces.find((n) => n.namespace === ns);
      if (!fresh) return old ? [old] : [];
      if (!old || fresh.action !== "unchanged") return [fresh];
      const names = new Set(fresh.pullSecrets.map((s) => s.name));
      return [{ ...old, pullSecrets: [...old.pullSecrets.filter((s) => !names.has(s.name)), ...fresh.pullSecrets] }];
    });
    const failed = namespaces.some((n) => n.error || n.pullSecrets.some((s) => s.error));
    return { ...partial, namespaces, succeeded: !failed, unreachable: partial.unreachable };
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
    else this.cancelRetry(account.name);
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
