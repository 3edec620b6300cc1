import { catchError, defer, EMPTY, from, interval, mergeMap, startWith, type Subscription, timer } from "rxjs";
import type { V1ReplicationController } from "@kubernetes/client-node";
import { isInvalidArgument, isNotFound } from "../../common/errors.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { pointer } from "../../kube/json-patch.js";
import { list } from "../../kube/kinds.js";
import { patchPod, podKind } from "../../kube/pods.js";
import { patchReplicationController, replicationControllerKind } from "../../kube/replication-controllers.js";
import type { Logger } from "../../observability/logger.js";
import type { Account } from "../accounts/account.js";
import { annotationKeys, labelKeys, selectors } from "../shared/ownership.js";
import { deregisteredFrom, isEnabled, loadBalancersIn, trafficPatch } from "../shared/traffic-labels.js";
import type { LiveViews } from "./live-views.js";
import { readServerGroupRc } from "./ownership.js";
import type { ServerGroupRef } from "./spec.js";

/**
 * An enable/disable is two steps (the RC's template, then each pod), and a
 * caller can vanish between them. So the first step also marks the RC with
 * the change and a lease (until when its caller may still be at it); the
 * caller clears the mark once every pod follows. A mark whose lease is over
 * is an interrupted change: `TrafficChanges` completes it towards the
 * template, which already says what was asked.
 */
interface Mark {
  enabled: boolean;
  /** Epoch ms. */
  until: number;
  /** Unique to one change, so that clearing never removes a newer change's mark. */
  id: string;
}

export interface StartedChange {
  until: number;
  /** Brings every pod in line and clears the mark; returns the pods it changed. */
  finish(): Promise<string[]>;
}

/** Marks the RC and flips its template; undefined when the group has no load balancer (nothing to route). */
export async function startTrafficChange(
  account: Account,
  ref: ServerGroupRef,
  enabled: boolean,
  id: string,
  leaseMs: number,
  opts?: KubeCallOptions,
): Promise<StartedChange | undefined> {
  const rc = await readServerGroupRc(account, ref, opts);
  const templateLabels = rc.spec?.template?.metadata?.labels ?? {};
  const loadBalancers = loadBalancersIn(templateLabels);
  if (loadBalancers.length === 0) return undefined;
  const mark: Mark = { enabled, until: Date.now() + leaseMs, id };
  const text = JSON.stringify(mark);
  // The caller's work ends with its lease, so that completing it later never races with it.
  const lease = AbortSignal.timeout(leaseMs);
  const held = { ...opts, signal: opts?.signal ? AbortSignal.any([opts.signal, lease]) : lease };
  await patchReplicationController(
    account.kube,
    ref.namespace,
    ref.name,
    [
      ...trafficPatch(templateLabels, loadBalancers, enabled, ["spec", "template", "metadata", "labels"]),
      { op: "add", path: pointer("metadata", "labels", labelKeys.trafficPending), value: "true" },
      { op: "add", path: pointer("metadata", "annotations", annotationKeys.trafficChange), value: text },
    ],
    held,
  );
  return {
    until: mark.until,
    finish: async () => {
      const changed = await alignPods(account, ref, enabled, held);
      await clearMark(account, ref, text, held);
      return changed;
    },
  };
}

/** Sets every live pod's `load-balancer-*` labels to `enabled`; returns the pods it changed, sorted. */
async function alignPods(account: Account, ref: ServerGroupRef, enabled: boolean, opts?: KubeCallOptions): Promise<string[]> {
  const pods = await list(account.kube, podKind, ref.namespace, selectors.podsOf(ref.name), opts);
  const changed: string[] = [];
  await Promise.all(
    pods.map(async (pod) => {
      const labels = pod.metadata?.labels ?? {};
      // A pod deliberately deregistered from a load balancer stays out of it until registered again.
      const kept = enabled ? deregisteredFrom(pod.metadata?.annotations) : [];
      const patch = trafficPatch(
        labels,
        loadBalancersIn(labels).filter((lb) => !kept.includes(lb)),
        enabled,
        ["metadata", "labels"],
      );
      if (patch.length === 0 || pod.metadata?.deletionTimestamp) return;
      const patched = await patchPod(account.kube, ref.namespace, pod.metadata!.name!, patch, opts).then(
        () => true,
        (err: unknown) => {
          // A pod deleted meanwhile needs no label.
          if (isNotFound(err)) return false;
          throw err;
        },
      );
      if (patched) changed.push(pod.metadata!.name!);
    }),
  );
  return changed.sort();
}

/** Removes the mark, provided it is still this change's (`text`; a newer change keeps its own). */
async function clearMark(account: Account, ref: ServerGroupRef, text: string | undefined, opts?: KubeCallOptions): Promise<void> {
  const annotation = pointer("metadata", "annotations", annotationKeys.trafficChange);
  await patchReplicationController(
    account.kube,
    ref.namespace,
    ref.name,
    [
      ...(text === undefined ? [] : [{ op: "test" as const, path: annotation, value: text }]),
      { op: "remove", path: annotation },
      { op: "remove", path: pointer("metadata", "labels", labelKeys.trafficPending) },
    ],
    opts,
  ).catch((err: unknown) => {
    // A failed test (422) is a newer change's mark; a missing RC has no pods to route.
    if (!isInvalidArgument(err) && !isNotFound(err)) throw err;
  });
}

function markOf(rc: V1ReplicationController): Mark | undefined {
  try {
    const parsed = JSON.parse(rc.metadata?.annotations?.[annotationKeys.trafficChange] ?? "") as Partial<Mark>;
    if (typeof parsed.enabled !== "boolean" || typeof parsed.until !== "number" || typeof parsed.id !== "string") return undefined;
    return { enabled: parsed.enabled, until: parsed.until, id: parsed.id };
  } catch {
    return undefined;
  }
}

export interface TrafficChangesOptions {
  /** How often every managed namespace is searched for interrupted changes. */
  intervalMs: number;
  /** How long an enable/disable may take; its mark's lease. */
  leaseMs?: number;
  log: Logger;
  /** Where the sweep finds marked RCs without a Kubernetes request, once a namespace's view is ready. */
  views?: LiveViews;
}

/**
 * Completes interrupted enable/disable changes without a caller's retry:
 * those this process gave up on, at their lease's end; and those any replica
 * left behind (a crash, a kill -9), found by a sweep of marked RCs at start
 * and on every interval: from the namespace's live view once it is ready,
 * until then by one labelled LIST per namespace.
 */
export class TrafficChanges {
  readonly leaseMs: number;
  private readonly due = new Map<string, Subscription>();
  private sweeping?: Subscription;

  constructor(
    private readonly accounts: () => readonly Account[],
    private readonly options: TrafficChangesOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 10_000;
  }

  start(): void {
    this.sweeping ??= interval(this.options.intervalMs)
      .pipe(
        startWith(0),
        mergeMap(() => from(this.accounts().flatMap((a) => a.namespaces.map((ns) => [a, ns] as const)))),
        mergeMap(([account, namespace]) => defer(() => this.sweep(account, namespace)).pipe(catchError(() => EMPTY)), 4),
      )
      .subscribe();
  }

  stop(): void {
    this.sweeping?.unsubscribe();
    for (const s of this.due.values()) s.unsubscribe();
    this.due.clear();
  }

  /** Completes the group's change once `until` has passed (unless a newer change took over). */
  completeLater(account: Account, ref: ServerGroupRef, until: number): void {
    const key = `${account.name}/${ref.namespace}/${ref.name}`;
    if (this.due.has(key)) return;
    const wait = Math.max(until - Date.now(), 0) + 1;
    this.due.set(
      key,
      timer(wait).subscribe(() => {
        this.due.delete(key);
        // Removed by a reload (nothing in its cluster is touched), or reconnected: the next sweep finds it on the new client.
        if (!this.accounts().some((a) => a.kube === account.kube)) return;
        void this.complete(account, ref).catch((err: unknown) => {
          this.options.log.warn("interrupted traffic change not completed yet; retrying on the next sweep", { ...ref, error: err });
        });
      }),
    );
  }

  private async sweep(account: Account, namespace: string): Promise<void> {
    // The namespace's view already watches every RC: a LIST only until it has synced.
    const view = this.options.views?.view(account.name, namespace);
    const marked = view?.ready
      ? view.replicationControllers().filter((rc) => rc.metadata?.labels?.[labelKeys.trafficPending] === "true")
      : await list(account.kube, replicationControllerKind, namespace, selectors.trafficPending(), { timeoutMs: this.options.intervalMs });
    for (const rc of marked) {
      const mark = markOf(rc);
      const ref = { account: account.name, namespace, name: rc.metadata!.name! };
      this.completeLater(account, ref, mark?.until ?? 0);
    }
  }

  /** Re-reads the mark: a change still under its lease is left to its caller. */
  private async complete(account: Account, ref: ServerGroupRef): Promise<void> {
    const rc = await readServerGroupRc(account, ref).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (!rc || rc.metadata?.labels?.[labelKeys.trafficPending] !== "true") return;
    const mark = markOf(rc);
    if (mark && mark.until > Date.now()) return this.completeLater(account, ref, mark.until);
    // The template says what was asked; an unreadable mark is completed towards it too.
    const enabled = mark?.enabled ?? isEnabled(rc.spec?.template?.metadata?.labels);
    const started = await startTrafficChange(account, ref, enabled, `completes-${mark?.id ?? "unknown"}`, this.leaseMs);
    if (!started) return clearMark(account, ref, undefined);
    const changed = await started.finish();
    this.options.log.info("completed an interrupted traffic change", { ...ref, enabled, changedInstances: changed.length });
  }
}
