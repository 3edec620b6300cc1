import { Subject } from "rxjs";
import type { Account } from "../accounts/account.js";

/** A watch-fed view of one account namespace. */
export interface AccountNamespaceView {
  readonly account: Account;
  start(): void;
  close(): Promise<void>;
}

/**
 * One view per namespace of every account, started with the account: one
 * LIST+WATCH per account and namespace and kind of view, whatever the number
 * of readers, streams and waits.
 */
export class NamespaceViews<V extends AccountNamespaceView> {
  private readonly views = new Map<string, V>();
  /** After each start: views may have been added, replaced or closed, for streams and waits to follow. */
  readonly changed = new Subject<void>();

  constructor(
    private readonly accounts: () => readonly Account[],
    private readonly create: (account: Account, namespace: string) => V,
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
      const view = this.create(account, namespace);
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

  view(account: string, namespace: string): V | undefined {
    return this.views.get(keyOf(account, namespace));
  }
}

function keyOf(account: string, namespace: string): string {
  return `${account}\u0000${namespace}`;
}
