import type { V1Pod, V1ReplicationController, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { Subject } from "rxjs";
import type { KubeCallOptions } from "../../kube/client.js";
import { listAutoscalersAt } from "../../kube/autoscalers.js";
import { listPodsAt } from "../../kube/pods.js";
import { Reflector, type ChangeType, type ReflectorOptions } from "../../kube/reflector.js";
import { listReplicationControllersAt } from "../../kube/replication-controllers.js";
import type { Account } from "../accounts/account.js";
import { Progress } from "../views/progress.js";
import { slim } from "../views/slim.js";
import { autoscaledGroup } from "../autoscalers/ownership.js";
import { isServerGroup, labelKeys, selectors } from "./ownership.js";
import type { AutoscalerPolicy, ServerGroup } from "./spec.js";
import { serverGroupView } from "./view.js";

/** One server group's change, as every subscriber of a namespace sees it. */
export interface GroupChange {
  type: ChangeType;
  /** The group now; for DELETED, as last seen. */
  group: ServerGroup;
}

/** How long a read waits for the view to catch up with this replica's writes before asking the API server. */
const maxCatchUpMs = 2_000;

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
  private readonly reflectors: { rcs: Reflector<V1ReplicationController>; pods: Reflector<V1Pod>; hpas: Reflector<V2HorizontalPodAutoscaler> };
  private readonly state: Record<Watched, { synced: boolean; up: boolean; version: bigint }> = {
    rcs: { synced: false, up: false, version: 0n },
    pods: { synced: false, up: false, version: 0n },
    hpas: { synced: false, up: false, version: 0n },
  };
  private readonly progressed = new Progress();
  private closing = false;

  constructor(
    readonly account: Account,
    readonly namespace: string,
    options: ReflectorOptions = {},
  ) {
    const kube = account.kube;
    const selector = selectors.serverGroups();
    const managed = selectors.managed();
    const base = `/api/v1/namespaces/${encodeURIComponent(namespace)}`;
    this.reflectors = {
      rcs: new Reflector<V1ReplicationController>(
        {
          client: kube,
          kind: "replication controllers",
          namespace,
          path: `${base}/replicationcontrollers`,
          labelSelector: selector,
          list: (signal) => listReplicationControllersAt(kube, namespace, selector, { signal }),
        },
        {
          replace: (items, version) => this.replaceRcs(items, version),
          change: (type, rc, version) => this.changeRc(type, rc, version),
          progress: (version) => this.advance("rcs", version),
          connected: (up) => this.connected("rcs", up),
        },
        options,
      ),
      pods: new Reflector<V1Pod>(
        {
          client: kube,
          kind: "pods",
          namespace,
          path: `${base}/pods`,
          labelSelector: selector,
          list: (signal) => listPodsAt(kube, namespace, selector, { signal }),
        },
        {
          replace: (items, version) => this.replacePods(items, version),
          change: (type, pod, version) => this.changePod(type, pod, version),
          progress: (version) => this.advance("pods", version),
          connected: (up) => this.connected("pods", up),
        },
        options,
      ),
      hpas: new Reflector<V2HorizontalPodAutoscaler>(
        {
          client: kube,
          kind: "horizontal pod autoscalers",
          namespace,
          path: `/apis/autoscaling/v2/namespaces/${encodeURIComponent(namespace)}/horizontalpodautoscalers`,
          labelSelector: managed,
          list: (signal) => listAutoscalersAt(kube, namespace, managed, { signal }),
        },
        {
          replace: (items, version) => this.replaceAutoscalers(items, version),
          change: (type, hpa, version) => this.changeAutoscaler(type, hpa, version),
          progress: (version) => this.advance("hpas", version),
          connected: (up) => this.connected("hpas", up),
        },
        options,
      ),
    };
  }

  start(): void {
    for (const r of Object.values(this.reflectors)) r.start();
  }

  /** Set as soon as close begins: a closed view neither lists nor changes again. */
  get closed(): boolean {
    return this.closing;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.wake();
    await Promise.all(Object.values(this.reflectors).map((r) => r.close()));
    this.changes.complete();
    this.wake();
  }

  /** Listed, and every watch connected: reads may be served from memory. */
  get ready(): boolean {
    return Object.values(this.state).every((s) => s.synced && s.up);
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

  /**
   * Whether the view is ready and has seen every write this process made in
   * the namespace (read-your-writes), waiting for that within the caller's
   * deadline (and at most 2 s); false means: read from the API server.
   */
  caughtUp(opts?: KubeCallOptions): Promise<boolean> {
    const written = (kind: string) => this.account.kube.writtenVersion(kind, this.namespace) ?? 0n;
    const seen = () =>
      this.state.rcs.version >= written("replication controller") &&
      this.state.pods.version >= written("pod") &&
      this.state.hpas.version >= written("horizontal pod autoscaler");
    return this.progressed.until(() => this.ready, seen, maxCatchUpMs, opts);
  }

  /** Resolves on the next change of version, sync or connection, or after `ms`, or when `signal` aborts. */
  nextProgress(ms: number, signal?: AbortSignal): Promise<void> {
    return this.progressed.next(ms, signal);
  }

  private replaceRcs(items: V1ReplicationController[], version: string): void {
    const fresh = new Map(items.filter(isServerGroup).map((rc) => [rc.metadata!.name!, slim(rc)]));
    for (const [name] of this.rcs) if (!fresh.has(name)) this.removeRc(name);
    for (const rc of fresh.values()) this.putRc(rc);
    this.state.rcs.synced = true;
    this.advance("rcs", version);
  }

  private changeRc(type: ChangeType, rc: V1ReplicationController, version: string): void {
    if (type === "DELETED" || !isServerGroup(rc)) this.removeRc(rc.metadata!.name!);
    else this.putRc(slim(rc));
    this.advance("rcs", version);
  }

  private replacePods(items: V1Pod[], version: string): void {
    const fresh = new Map<string, Map<string, V1Pod>>();
    for (const pod of items) {
      const group = groupOf(pod);
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
    this.state.pods.synced = true;
    this.advance("pods", version);
  }

  private changePod(type: ChangeType, pod: V1Pod, version: string): void {
    const group = groupOf(pod);
    const name = pod.metadata!.name!;
    if (type === "DELETED") {
      this.pods.get(group)?.delete(name);
      if (this.pods.get(group)?.size === 0) this.pods.delete(group);
    } else {
      if (!this.pods.has(group)) this.pods.set(group, new Map());
      this.pods.get(group)!.set(name, slim(pod));
    }
    this.rebuilt(group);
    this.advance("pods", version);
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
    this.state.hpas.synced = true;
    this.advance("hpas", version);
  }

  private changeAutoscaler(type: ChangeType, hpa: V2HorizontalPodAutoscaler, version: string): void {
    const scaled = type === "DELETED" ? undefined : autoscaledGroup(hpa);
    // An HPA's name is its group's (see autoscalerManifest); deleted or foreign, it scales nothing of ours.
    const group = scaled?.group ?? hpa.metadata!.name!;
    if (scaled) this.autoscalers.set(group, scaled.policy);
    else this.autoscalers.delete(group);
    this.rebuilt(group);
    this.advance("hpas", version);
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

  private advance(which: Watched, version: string): void {
    if (/^\d+$/.test(version)) {
      const v = BigInt(version);
      if (v > this.state[which].version) this.state[which].version = v;
    }
    this.wake();
  }

  private connected(which: Watched, up: boolean): void {
    this.state[which].up = up;
    this.wake();
  }

  private wake(): void {
    this.progressed.wake();
  }
}

type Watched = "rcs" | "pods" | "hpas";

function groupOf(pod: V1Pod): string {
  return pod.metadata?.labels?.[labelKeys.serverGroup] ?? "";
}

function samePods(a: Map<string, V1Pod> | undefined, b: Map<string, V1Pod> | undefined): boolean {
  if ((a?.size ?? 0) !== (b?.size ?? 0)) return false;
  for (const [name, pod] of a ?? []) if (b?.get(name)?.metadata?.resourceVersion !== pod.metadata?.resourceVersion) return false;
  return true;
}
