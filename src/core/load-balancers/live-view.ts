import type { V1Service } from "@kubernetes/client-node";
import type { KubeCallOptions } from "../../kube/client.js";
import { Reflector, type ChangeType, type ReflectorOptions } from "../../kube/reflector.js";
import { listServicesAt } from "../../kube/services.js";
import type { Account } from "../accounts/account.js";
import { NamespaceViews } from "../views/namespace-views.js";
import { Progress } from "../views/progress.js";
import { slim } from "../views/slim.js";

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
  private readonly progressed = new Progress();

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
  caughtUp(opts?: KubeCallOptions): Promise<boolean> {
    const written = () => this.account.kube.writtenVersion("service", this.namespace) ?? 0n;
    return this.progressed.until(() => this.ready, () => this.state.version >= written(), maxCatchUpMs, opts);
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
    this.progressed.wake();
  }
}

/** Every managed namespace's Service view, started and stopped with the accounts as LiveViews is. */
export class ServiceViews extends NamespaceViews<ServiceView> {
  constructor(accounts: () => readonly Account[], options: ReflectorOptions = {}) {
    super(accounts, (account, namespace) => new ServiceView(account, namespace, options));
  }
}

