import type { V1Service } from "@kubernetes/client-node";
import { sleep } from "../../common/sleep.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { Reflector, type ChangeType, type ReflectorOptions } from "../../kube/reflector.js";
import { listServicesAt } from "../../kube/services.js";
import type { Account } from "../accounts/account.js";

/** How long a read waits for the view to catch up with this replica's writes before asking the API server. */
const maxCatchUpMs = 2_000;

/**
 * One account namespace's Services, held in memory from one LIST+WATCH.
 * Every Service of the namespace is watched, not only kubedriver's: load
 * balancer reads show the Services kubedriver did not create too (as
 * `managed: false`), and a Service can become kubedriver's by adoption. The
 * namespace is one the account manages, so this holds what a live
 * ListLoadBalancers would read anyway. The pods a load balancer routes to come
 * from the namespace's server-group view (NamespaceView).
 */
export class ServiceView {
  private readonly services = new Map<string, V1Service>();
  private readonly reflector: Reflector<V1Service>;
  private state = { synced: false, up: false, version: 0n };
  /** Woken on every version change, sync or connection change. */
  private readonly progressed = new Set<() => void>();

  constructor(
    readonly account: Account,
    readonly namespace: string,
    options: ReflectorOptions = {},
  ) {
    const kube = account.kube;
    this.reflector = new Reflector<V1Service>(
      {
        client: kube,
        kind: "services",
        namespace,
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/services`,
        labelSelector: "",
        list: (signal) => listServicesAt(kube, namespace, undefined, { signal }),
      },
      {
        replace: (items, version) => this.replace(items, version),
        change: (type, svc, version) => this.change(type, svc, version),
        progress: (version) => this.advance(version),
        connected: (up) => {
          this.state.up = up;
          this.wake();
        },
      },
      options,
    );
  }

  start(): void {
    this.reflector.start();
  }

  async close(): Promise<void> {
    await this.reflector.close();
    this.wake();
  }

  /** Listed, and the watch connected: reads may be served from memory. */
  get ready(): boolean {
    return this.state.synced && this.state.up;
  }

  get(name: string): V1Service | undefined {
    return this.services.get(name);
  }

  list(): V1Service[] {
    return [...this.services.values()];
  }

  /**
   * Whether the view is ready and has seen every Service write this process
   * made in the namespace (read-your-writes), waiting for that within the
   * caller's deadline (and at most 2 s); false means: read from the API server.
   */
  async caughtUp(opts?: KubeCallOptions): Promise<boolean> {
    const deadline = Date.now() + maxCatchUpMs;
    for (;;) {
      if (!this.ready) return false;
      if (this.state.version >= (this.account.kube.writtenVersion("service", this.namespace) ?? 0n)) return true;
      const left = deadline - Date.now();
      if (left <= 0 || opts?.signal?.aborted) return false;
      await this.nextProgress(left, opts?.signal);
    }
  }

  private nextProgress(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const abort = new AbortController();
      const done = () => {
        this.progressed.delete(done);
        abort.abort();
        resolve();
      };
      this.progressed.add(done);
      void sleep(ms, signal ? AbortSignal.any([signal, abort.signal]) : abort.signal).then(done);
    });
  }

  private replace(items: V1Service[], version: string): void {
    this.services.clear();
    for (const svc of items) this.services.set(svc.metadata!.name!, slim(svc));
    this.state.synced = true;
    this.advance(version);
  }

  private change(type: ChangeType, svc: V1Service, version: string): void {
    if (type === "DELETED") this.services.delete(svc.metadata!.name!);
    else this.services.set(svc.metadata!.name!, slim(svc));
    this.advance(version);
  }

  private advance(version: string): void {
    if (/^\d+$/.test(version)) {
      const v = BigInt(version);
      if (v > this.state.version) this.state.version = v;
    }
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.progressed]) w();
  }
}

/**
 * Every managed namespace's ServiceView, started and stopped with the
 * accounts as LiveViews does for server groups.
 */
export class ServiceViews {
  private readonly views = new Map<string, ServiceView>();

  constructor(
    private readonly accounts: () => readonly Account[],
    private readonly options: ReflectorOptions = {},
  ) {}

  /** Starts a view per account namespace, and stops those of namespaces (or clients) no longer in use. */
  start(): void {
    const wanted = new Map(this.accounts().flatMap((a) => a.namespaces.map((ns) => [keyOf(a.name, ns), [a, ns] as const])));
    for (const [key, view] of this.views) {
      if (wanted.get(key)?.[0].kube !== view.account.kube) {
        this.views.delete(key);
        void view.close();
      }
    }
    for (const [key, [account, namespace]] of wanted) {
      if (this.views.has(key)) continue;
      const view = new ServiceView(account, namespace, this.options);
      this.views.set(key, view);
      view.start();
    }
  }

  async stop(): Promise<void> {
    const all = [...this.views.values()];
    this.views.clear();
    await Promise.all(all.map((v) => v.close()));
  }

  view(account: string, namespace: string): ServiceView | undefined {
    return this.views.get(keyOf(account, namespace));
  }
}

function keyOf(account: string, namespace: string): string {
  return `${account}\u0000${namespace}`;
}

/** Only what views read: managed fields are most of an object's bytes and none of its meaning here. */
function slim(svc: V1Service): V1Service {
  if (svc.metadata?.managedFields === undefined) return svc;
  return { ...svc, metadata: { ...svc.metadata, managedFields: undefined } };
}
