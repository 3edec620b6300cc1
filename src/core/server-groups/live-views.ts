import { Subject } from "rxjs";
import type { ReflectorOptions } from "../../kube/reflector.js";
import type { Account } from "../accounts/account.js";
import { NamespaceView } from "./live-view.js";

/**
 * Every managed namespace's view, started with its account: one LIST+WATCH
 * of RCs and one of pods per account and namespace, whatever the number of
 * readers, streams and waits.
 */
export class LiveViews {
  private readonly views = new Map<string, NamespaceView>();
  /** After each start: views may have been added, replaced or closed, for streams and waits to follow. */
  readonly changed = new Subject<void>();

  constructor(
    private readonly accounts: () => readonly Account[],
    private readonly options: ReflectorOptions = {},
  ) {}

  /**
   * Starts a view for every namespace of every account, and stops views of
   * namespaces no longer managed. Called again after a reload: a view whose
   * account kept its client (only its namespaces, registries or permissions
   * changed) is kept, since it reads nothing else of the account.
   */
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
      const view = new NamespaceView(account, namespace, this.options);
      this.views.set(key, view);
      view.start();
    }
    this.changed.next();
  }

  async stop(): Promise<void> {
    const all = [...this.views.values()];
    this.views.clear();
    await Promise.all(all.map((v) => v.close()));
  }

  view(account: string, namespace: string): NamespaceView | undefined {
    return this.views.get(keyOf(account, namespace));
  }
}

function keyOf(account: string, namespace: string): string {
  return `${account}\u0000${namespace}`;
}
