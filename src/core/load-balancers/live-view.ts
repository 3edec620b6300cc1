import type { V1Service } from "@kubernetes/client-node";
import type { KubeCallOptions } from "../../kube/client.js";
import { Reflector, type ChangeType, type ReflectorOptions } from "../../kube/reflector.js";
import { serviceKind } from "../../kube/services.js";
import type { Account } from "../accounts/account.js";
import { NamespaceViews } from "../shared/namespace-views.js";
import { ViewProgress } from "../shared/progress.js";
import { slim } from "../shared/slim.js";

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
  private readonly progress: ViewProgress<"services">;

  constructor(
    readonly account: Account,
    readonly namespace: string,
    options: ReflectorOptions = {},
  ) {
    this.progress = new ViewProgress(account.kube, namespace, { services: serviceKind });
    this.reflector = new Reflector<V1Service>(
      { client: account.kube, kind: serviceKind, namespace, labelSelector: "" },
      {
        replace: (items, version) => this.replace(items, version),
        change: (type, svc, version) => this.change(type, svc, version),
        progress: (version) => this.progress.advance("services", version),
        connected: (up) => this.progress.connected("services", up),
      },
      options,
    );
  }

  start(): void {
    this.reflector.start();
  }

  async close(): Promise<void> {
    await this.reflector.close();
    this.progress.wake();
  }

  /** Listed, and the watch connected: reads may be served from memory. */
  get ready(): boolean {
    return this.progress.ready;
  }

  get(name: string): V1Service | undefined {
    return this.services.get(name);
  }

  list(): V1Service[] {
    return [...this.services.values()];
  }

  /** Whether the view is ready and has seen this replica's Service writes (see ViewProgress.caughtUp); false: read from the API server. */
  caughtUp(opts?: KubeCallOptions): Promise<boolean> {
    return this.progress.caughtUp(opts);
  }

  private replace(items: V1Service[], version: string): void {
    this.services.clear();
    for (const svc of items) this.services.set(svc.metadata!.name!, slim(svc));
    this.progress.synced("services", version);
  }

  private change(type: ChangeType, svc: V1Service, version: string): void {
    if (type === "DELETED") this.services.delete(svc.metadata!.name!);
    else this.services.set(svc.metadata!.name!, slim(svc));
    this.progress.advance("services", version);
  }
}

/** Every managed namespace's Service view, started and stopped with the accounts as LiveViews is. */
export class ServiceViews extends NamespaceViews<ServiceView> {
  constructor(accounts: () => readonly Account[], options: ReflectorOptions = {}) {
    super(accounts, (account, namespace) => new ServiceView(account, namespace, options));
  }
}
