import type { V1Pod, V1ReplicationController, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { Subject } from "rxjs";
import { autoscalerKind } from "../../kube/autoscalers.js";
import type { KubeCallOptions } from "../../kube/client.js";
import type { ListedKind } from "../../kube/kinds.js";
import { podKind } from "../../kube/pods.js";
import { Reflector, type ChangeType, type ReflectorOptions, type ReflectorSink, type Watched } from "../../kube/reflector.js";
import { replicationControllerKind } from "../../kube/replication-controllers.js";
import type { Account } from "../accounts/account.js";
import { autoscaledGroup, type AutoscalerPolicy } from "../shared/hpa.js";
import { selectors, serverGroupOf } from "../shared/ownership.js";
import { ViewProgress } from "../shared/progress.js";
import { slim } from "../shared/slim.js";
import { isServerGroup } from "./ownership.js";
import type { ServerGroup } from "./spec.js";
import { serverGroupView } from "./view.js";

/** One server group's change, as every subscriber of a namespace sees it. */
export interface GroupChange {
  type: ChangeType;
  /** The group now; for DELETED, as last seen. */
  group: ServerGroup;
}

/**
 * One account namespace's server groups, held in memory from one
 * LIST+WATCH each of kubedriver's ReplicationControllers, their pods and
 * their autoscalers (all selected by kubedriver's label, so nothing else is
 * held). Every
 * read, stream and wait of the namespace is served from here. Views are
 * built once per change and shared by every reader.
 */
export class NamespaceView {
  readonly changes = new Subject<GroupChange>();
  private readonly rcs = new Map<string, V1ReplicationController>();
  private readonly pods = new Map<string, Map<string, V1Pod>>();
  private readonly autoscalers = new Map<string, AutoscalerPolicy>();
  private readonly built = new Map<string, ServerGroup>();
  /** Every group by name, kept until the next change, so a List of the namespace sorts nothing. */
  private listed: readonly ServerGroup[] | undefined;
  private readonly reflectors: { start(): void; close(): Promise<void> }[];
  private readonly progress: ViewProgress<WatchedKind>;
  private closing = false;

  constructor(
    readonly account: Account,
    readonly namespace: string,
    options: ReflectorOptions = {},
  ) {
    const kube = account.kube;
    this.progress = new ViewProgress(kube, namespace, { rcs: replicationControllerKind, pods: podKind, hpas: autoscalerKind });
    const reflect = <T extends Watched>(which: WatchedKind, kind: ListedKind<T>, labelSelector: string, sink: Pick<ReflectorSink<T>, "replace" | "change">) =>
      new Reflector<T>(
        { client: kube, kind, namespace, labelSelector },
        {
          ...sink,
          progress: (version) => this.progress.advance(which, version),
          connected: (up) => this.progress.connected(which, up),
        },
        options,
      );
    this.reflectors = [
      reflect("rcs", replicationControllerKind, selectors.serverGroups(), {
        replace: (items, version) => this.replaceRcs(items, version),
        change: (type, rc, version) => this.changeRc(type, rc, version),
      }),
      reflect("pods", podKind, selectors.serverGroups(), {
        replace: (items, version) => this.replacePods(items, version),
        change: (type, pod, version) => this.changePod(type, pod, version),
      }),
      reflect("hpas", autoscalerKind, selectors.managed(), {
        replace: (items, version) => this.replaceAutoscalers(items, version),
        change: (type, hpa, version) => this.changeAutoscaler(type, hpa, version),
      }),
    ];
  }

  start(): void {
    for (const r of this.reflectors) r.start();
  }

  /** Set as soon as close begins: a closed view neither lists nor changes again. */
  get closed(): boolean {
    return this.closing;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.wake();
    await Promise.all(this.reflectors.map((r) => r.close()));
    this.changes.complete();
    this.wake();
  }

  /** Listed, and every watch connected: reads may be served from memory. */
  get ready(): boolean {
    return this.progress.ready;
  }

  get(name: string): ServerGroup | undefined {
    const rc = this.rcs.get(name);
    if (!rc) return undefined;
    let group = this.built.get(name);
    if (!group) {
      group = serverGroupView(this.account.name, rc, [...(this.pods.get(name)?.values() ?? [])], this.autoscalers.get(name));
      this.built.set(name, group);
    }
    return group;
  }

  /** The RCs as the watch last saw them, for readers that need more than a view (TrafficChanges' sweep). */
  replicationControllers(): V1ReplicationController[] {
    return [...this.rcs.values()];
  }

  /** kubedriver's pods as the watch last saw them, for load balancer reads (what each routes to). */
  allPods(): V1Pod[] {
    return [...this.pods.values()].flatMap((group) => [...group.values()]);
  }

  /** Every group, ordered by name. */
  list(): readonly ServerGroup[] {
    this.listed ??= [...this.rcs.keys()].sort().map((name) => this.get(name)!);
    return this.listed;
  }

  /** Whether the view is ready and has seen this replica's writes (see ViewProgress.caughtUp); false: read from the API server. */
  caughtUp(opts?: KubeCallOptions): Promise<boolean> {
    return this.progress.caughtUp(opts);
  }

  /** Resolves on the next change of version, sync or connection, or after `ms`, or when `signal` aborts. */
  nextProgress(ms: number, signal?: AbortSignal): Promise<void> {
    return this.progress.next(ms, signal);
  }

  private replaceRcs(items: V1ReplicationController[], version: string): void {
    const fresh = new Map(items.filter(isServerGroup).map((rc) => [rc.metadata!.name!, slim(rc)]));
    for (const [name] of this.rcs) if (!fresh.has(name)) this.removeRc(name);
    for (const rc of fresh.values()) this.putRc(rc);
    this.progress.synced("rcs", version);
  }

  private changeRc(type: ChangeType, rc: V1ReplicationController, version: string): void {
    if (type === "DELETED" || !isServerGroup(rc)) this.removeRc(rc.metadata!.name!);
    else this.putRc(slim(rc));
    this.progress.advance("rcs", version);
  }

  private replacePods(items: V1Pod[], version: string): void {
    const fresh = new Map<string, Map<string, V1Pod>>();
    for (const pod of items) {
      const group = serverGroupOf(pod);
      if (!fresh.has(group)) fresh.set(group, new Map());
      fresh.get(group)!.set(pod.metadata!.name!, slim(pod));
    }
    const touched = new Set([...this.pods.keys(), ...fresh.keys()]);
    for (const group of touched) {
      const before = this.pods.get(group);
      const after = fresh.get(group);
      if (after) this.pods.set(group, after);
      else this.pods.delete(group);
      if (!samePods(before, after)) this.rebuilt(group);
    }
    this.progress.synced("pods", version);
  }

  private changePod(type: ChangeType, pod: V1Pod, version: string): void {
    const group = serverGroupOf(pod);
    const name = pod.metadata!.name!;
    if (type === "DELETED") {
      this.pods.get(group)?.delete(name);
      if (this.pods.get(group)?.size === 0) this.pods.delete(group);
    } else {
      if (!this.pods.has(group)) this.pods.set(group, new Map());
      this.pods.get(group)!.set(name, slim(pod));
    }
    this.rebuilt(group);
    this.progress.advance("pods", version);
  }

  private replaceAutoscalers(items: V2HorizontalPodAutoscaler[], version: string): void {
    const fresh = new Map(items.flatMap((h) => autoscaledGroup(h) ?? []).map((a) => [a.group, a.policy]));
    for (const group of new Set([...this.autoscalers.keys(), ...fresh.keys()])) {
      const before = this.autoscalers.get(group);
      const after = fresh.get(group);
      if (after) this.autoscalers.set(group, after);
      else this.autoscalers.delete(group);
      if (JSON.stringify(before) !== JSON.stringify(after)) this.rebuilt(group);
    }
    this.progress.synced("hpas", version);
  }

  private changeAutoscaler(type: ChangeType, hpa: V2HorizontalPodAutoscaler, version: string): void {
    const scaled = type === "DELETED" ? undefined : autoscaledGroup(hpa);
    // An HPA's name is its group's (see autoscalerManifest); deleted or foreign, it scales nothing of ours.
    const group = scaled?.group ?? hpa.metadata!.name!;
    if (scaled) this.autoscalers.set(group, scaled.policy);
    else this.autoscalers.delete(group);
    this.rebuilt(group);
    this.progress.advance("hpas", version);
  }

  private putRc(rc: V1ReplicationController): void {
    const name = rc.metadata!.name!;
    const before = this.rcs.get(name);
    if (before?.metadata?.resourceVersion === rc.metadata?.resourceVersion) return;
    this.rcs.set(name, rc);
    this.forget(name);
    this.changes.next({ type: before ? "MODIFIED" : "ADDED", group: this.get(name)! });
  }

  private removeRc(name: string): void {
    const last = this.get(name);
    if (!last) return;
    this.rcs.delete(name);
    this.forget(name);
    this.changes.next({ type: "DELETED", group: last });
  }

  /** A group's pods changed: its view is built anew, and subscribers told, when its RC is known. */
  private rebuilt(group: string): void {
    this.forget(group);
    if (this.rcs.has(group)) this.changes.next({ type: "MODIFIED", group: this.get(group)! });
  }

  private forget(group: string): void {
    this.built.delete(group);
    this.listed = undefined;
  }

  private wake(): void {
    this.progress.wake();
  }
}

/** The watches of a namespace view, one per kind it holds. */
type WatchedKind = "rcs" | "pods" | "hpas";


function samePods(a: Map<string, V1Pod> | undefined, b: Map<string, V1Pod> | undefined): boolean {
  if ((a?.size ?? 0) !== (b?.size ?? 0)) return false;
  for (const [name, pod] of a ?? []) if (b?.get(name)?.metadata?.resourceVersion !== pod.metadata?.resourceVersion) return false;
  return true;
}
