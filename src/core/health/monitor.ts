import { performance, type EventLoopUtilization } from "node:perf_hooks";
import {
  asyncScheduler,
  BehaviorSubject,
  catchError,
  defer,
  distinctUntilChanged,
  finalize,
  from,
  interval,
  map,
  mergeMap,
  type Observable,
  of,
  race,
  ReplaySubject,
  type SchedulerLike,
  startWith,
  type Subscription,
  take,
  timer,
  toArray,
} from "rxjs";
import type { NamespaceProbeOutcome } from "../../kube/namespace-probe.js";
import type { Logger } from "../../observability/logger.js";
import { traceProbeRound } from "../../observability/background-traces.js";
import { recordProbeRound } from "../../observability/metrics.js";
import { UnavailableError } from "../../common/errors.js";
import { ReachabilityLog } from "./reachability-log.js";
import type { NamespaceProbe, ProbeRound } from "./round.js";

/** What probing one namespace told us (the probe's own type: a failure is an answer, not an error). */
export type ProbeOutcome = NamespaceProbeOutcome;

/** How late a probe's timer may fire before the lateness is taken for a stalled event loop. */
const stallMs = 250;
/** Windows a probe gets while each one's timer fires late (a burst stalls the loop for seconds, in bouts). */
const maxWindows = 5;
/** Past this share of a window spent running (not waiting for I/O), the loop was too busy to read an answer in time. */
const busyUtilization = 0.9;

/** GETs one namespace of an account; resolves with the failure rather than throwing it. */
export type NamespaceProber = (namespace: string, opts: { timeoutMs: number; signal: AbortSignal }) => Promise<ProbeOutcome>;

export interface MonitoredAccount {
  name: string;
  namespaces: readonly string[];
  probe: NamespaceProber;
  /**
   * Resolves when the account's namespaces are as provisioning leaves them
   * (none is being created): a probe waits for it, up to one probe timeout,
   * so that a namespace being provisioned is not reported missing.
   */
  provisioned?: () => Promise<void>;
}

export interface MonitorOptions {
  intervalMs: number;
  /** Per probe; a probe still waiting then counts as unreachable with reason `timeout`. */
  timeoutMs: number;
  /** Probes in flight at once, across all accounts. */
  concurrency: number;
  log: Logger;
  /**
   * At most one round asked for by `freshRound` starts within this long of
   * the previous one; 5 s by default.
   */
  freshIntervalMs?: number;
  /** Time source for ticks and timeouts; tests pass a virtual one. */
  scheduler?: SchedulerLike;
  /** The event loop's utilization since a mark (performance.eventLoopUtilization); tests pass their own. */
  loopUtilization?: LoopUtilization;
}

/** Called with no mark, returns one; with a mark, the utilization since it. */
export type LoopUtilization = (since?: EventLoopUtilization) => EventLoopUtilization;

const defaultFreshIntervalMs = 5_000;

/**
 * Probes every namespace of every account once per tick and shares each
 * round with every subscriber: subscribers never cause Kubernetes calls. A
 * round is delivered synchronously to each subscriber, so how a subscriber
 * paces its own output (see the gRPC stream adapter) never delays the others
 * or the next round.
 */
export class NamespaceMonitor {
  private readonly scheduler: SchedulerLike;
  private readonly rounds = new ReplaySubject<ProbeRound>(1);
  private readonly serving = new BehaviorSubject<boolean>(true);
  private readonly reachability: ReachabilityLog;
  private roundCount = 0;
  private watchers = 0;
  private ticking?: Subscription;
  private current?: { done: Promise<ProbeRound>; cancel: () => void };
  private latest?: ProbeRound;
  private lastFreshStart?: number;

  constructor(
    private accounts: readonly MonitoredAccount[],
    private options: MonitorOptions,
  ) {
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.reachability = new ReachabilityLog(options.log);
  }

  /** False while any account is entirely unreachable; emits on change only. */
  readonly serving$: Observable<boolean> = this.serving.pipe(distinctUntilChanged());

  /** Subscriptions currently open through `watch()`. */
  get subscriberCount(): number {
    return this.watchers;
  }

  /** Runs the first round now, then one per interval, until `stop()`. */
  start(): void {
    this.ticking ??= interval(this.options.intervalMs, this.scheduler)
      .pipe(startWith(0))
      .subscribe(() => void this.runRound().catch(() => {}));
  }

  /**
   * The accounts to probe from the next round on (after a reload). The round
   * in flight finishes on the accounts it started with, so every round is
   * one consistent picture, and streams see added and removed namespaces in
   * the next one.
   */
  setAccounts(accounts: readonly MonitoredAccount[]): void {
    this.accounts = accounts;
  }

  /** New interval, timeout or concurrency (after a reload); a new interval restarts the ticks from now. */
  setTiming(timing: Pick<MonitorOptions, "intervalMs" | "timeoutMs" | "concurrency">): void {
    const restart = this.ticking !== undefined && !this.ticking.closed && timing.intervalMs !== this.options.intervalMs;
    this.options = { ...this.options, ...timing };
    if (!restart) return;
    this.ticking!.unsubscribe();
    this.ticking = interval(this.options.intervalMs, this.scheduler).subscribe(() => void this.runRound().catch(() => {}));
  }

  /** Stops ticking and abandons the round in flight (its probes are aborted). */
  stop(): void {
    this.ticking?.unsubscribe();
    this.current?.cancel();
  }

  /**
   * The latest completed round at once (or the first as soon as it
   * completes), then every later round.
   */
  watch(): Observable<ProbeRound> {
    return defer(() => {
      this.watchers++;
      return this.rounds.pipe(finalize(() => this.watchers--));
    });
  }

  /** The latest completed round, waiting for the first one if none has completed yet. */
  latestRound(signal?: AbortSignal): Promise<ProbeRound> {
    if (this.latest) return Promise.resolve(this.latest);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        subscription.unsubscribe();
        reject(signal?.reason);
      };
      const subscription = this.rounds.pipe(take(1)).subscribe((round) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(round);
      });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * A round for a caller who asked for fresh results: the one in flight if
   * any, else the latest one if a fresh round started less than
   * `freshIntervalMs` ago, else a new one. However many callers ask, and
   * whichever accounts they name, probes for fresh results start at most once
   * per interval, so no caller can multiply the traffic toward the clusters.
   */
  freshRound(): Promise<ProbeRound> {
    if (this.current) return this.current.done;
    const now = this.scheduler.now();
    const window = this.options.freshIntervalMs ?? defaultFreshIntervalMs;
    if (this.latest && this.lastFreshStart !== undefined && now - this.lastFreshStart < window) return Promise.resolve(this.latest);
    this.lastFreshStart = now;
    return this.runRound();
  }

  /**
   * Runs a round now, or joins the one already in flight: concurrent callers
   * (and a tick that lands meanwhile) share one round, so the concurrency
   * limit holds across all of them.
   */
  runRound(): Promise<ProbeRound> {
    if (this.current) return this.current.done;
    const number = ++this.roundCount;
    const startedAt = new Date(this.scheduler.now());
    let resolve!: (round: ProbeRound) => void;
    let reject!: (err: unknown) => void;
    const done = new Promise<ProbeRound>((res, rej) => ((resolve = res), (reject = rej)));
    // One trace per round, its probes' requests under it.
    const traced = traceProbeRound(number);
    // Registered before subscribing: a round with nothing to probe completes synchronously.
    const current = {
      done,
      cancel: () => {
        subscription.unsubscribe();
        traced.end();
        this.current = undefined;
        reject(new UnavailableError(`namespace probe round ${number} was abandoned: the monitor stopped`));
      },
    };
    this.current = current;
    const subscription = traced.run(() =>
      from(this.targets())
        .pipe(
          mergeMap(([account, namespace]) => this.probe(account, namespace, number), this.options.concurrency),
          toArray(),
        )
        .subscribe((probes) => {
          traced.end(probes);
          if (this.current === current) this.current = undefined;
          resolve(this.publish({ number, startedAt, endedAt: new Date(this.scheduler.now()), probes: sortProbes(probes) }));
        }),
    );
    return done;
  }

  private publish(round: ProbeRound): ProbeRound {
    this.options.log.debug("namespace probe round", {
      round: round.number,
      durationMs: round.endedAt.getTime() - round.startedAt.getTime(),
      probes: round.probes.length,
      unreachable: round.probes.filter((p) => !p.reachable).length,
    });
    const unreachable = this.reachability.observe(round);
    recordProbeRound(round);
    this.latest = round;
    this.serving.next(unreachable.length === 0);
    this.rounds.next(round);
    return round;
  }

  private targets(): [MonitoredAccount, string][] {
    // Taken whole when the round starts: a reload during the round applies to the next one.
    return this.accounts.flatMap((account) => account.namespaces.map((namespace) => [account, namespace] as [MonitoredAccount, string]));
  }

  /** One GET under the per-probe timeout, once provisioning lets it; never fails, the failure is the result. */
  private probe(account: MonitoredAccount, namespace: string, round: number): Observable<NamespaceProbe> {
    const probe = this.probeNow(account, namespace, round);
    const provisioned = account.provisioned;
    if (!provisioned) return probe;
    // Bounded: a provisioning run stuck on an unanswering cluster must not hold back the round; the probe then tells.
    return race(defer(() => provisioned()), timer(this.options.timeoutMs, this.scheduler)).pipe(
      take(1),
      mergeMap(() => probe),
    );
  }

  private probeNow(account: MonitoredAccount, namespace: string, round: number): Observable<NamespaceProbe> {
    return defer(() => {
      const { timeoutMs, log } = this.options;
      const abort = new AbortController();
      const started = performance.now();
      const result = (outcome: ProbeOutcome, latencyMs: number): NamespaceProbe => ({
        account: account.name,
        namespace,
        reachable: outcome.reachable,
        latencyMs,
        ...(outcome.reachable ? {} : { error: { reason: outcome.reason, detail: outcome.detail } }),
        checkedAt: new Date(this.scheduler.now()),
        round,
      });
      // The race below decides what is a timeout (and aborts the request), not the request's own timer:
      // a stall would fire that before the answer waiting in its socket is read. Its timer is a backstop.
      const answered = defer(() => account.probe(namespace, { timeoutMs: 2 * maxWindows * timeoutMs, signal: abort.signal })).pipe(
        catchError((err: unknown) => {
          log.error("namespace probe failed unexpectedly", { account: account.name, namespace, error: err });
          return of<ProbeOutcome>({ reachable: false, reason: "unexpected error", detail: "the probe failed unexpectedly; see the server log" });
        }),
        map((outcome) => result(outcome, performance.now() - started)),
      );
      // A timer that fires late, or a window the event loop spent almost all running, means kubedriver
      // was too busy (a burst of callers) to read an answer, not that the API server was slow: the
      // answer may be waiting in a socket, so it gets another window.
      const utilization = this.options.loopUtilization ?? ((since) => performance.eventLoopUtilization(since));
      const window = (n: number): Observable<unknown> => {
        const opened = this.scheduler.now();
        const mark = utilization();
        return timer(timeoutMs, this.scheduler).pipe(
          mergeMap(() => {
            const used = utilization(mark);
            // Measured over the window's real time only (a virtual clock's window has none).
            const busy = used.idle + used.active >= timeoutMs / 2 && used.utilization > busyUtilization;
            const stalled = this.scheduler.now() - opened > timeoutMs + stallMs || busy;
            return stalled && n < maxWindows ? window(n + 1) : of(0);
          }),
        );
      };
      const timedOut = window(1).pipe(
        map(() =>
          result(
            {
              reachable: false,
              reason: "timeout",
              detail: `account "${account.name}": get namespace "${namespace}": no answer within ${timeoutMs} ms`,
            },
            timeoutMs,
          ),
        ),
      );
      return race(answered, timedOut).pipe(finalize(() => abort.abort()));
    });
  }
}

function sortProbes(probes: NamespaceProbe[]): NamespaceProbe[] {
  const key = (p: NamespaceProbe) => [p.account, p.namespace] as const;
  return probes.sort((a, b) => {
    const [aa, an] = key(a);
    const [ba, bn] = key(b);
    return aa < ba ? -1 : aa > ba ? 1 : an < bn ? -1 : an > bn ? 1 : 0;
  });
}
