import type { KubeCallOptions } from "../../kube/client.js";

/** "view": from the watch-fed views, never older than this replica's writes; "strong": one live read. */
export type Consistency = "view" | "strong";

/** A watch-fed view a read may be served from (see ViewProgress.caughtUp). */
export interface CatchingUpView {
  caughtUp(opts?: KubeCallOptions): Promise<boolean>;
}

/**
 * The one consistency decision of every read: "strong" reads live;
 * otherwise the read is served from memory once every view it needs is
 * there, ready and caught up with this replica's writes (within the
 * caller's deadline, and a bound), and live when any is not.
 */
export async function readThrough<V extends readonly (CatchingUpView | undefined)[], T>(
  consistency: Consistency | undefined,
  views: V,
  opts: KubeCallOptions | undefined,
  read: { fromViews(views: { [K in keyof V]: NonNullable<V[K]> }): T | Promise<T>; live(): Promise<T> },
): Promise<T> {
  if (consistency === "strong" || !present(views)) return read.live();
  const caughtUp = await Promise.all(views.map((v: CatchingUpView) => v.caughtUp(opts)));
  return caughtUp.every(Boolean) ? read.fromViews(views) : read.live();
}

function present<V extends readonly (CatchingUpView | undefined)[]>(views: V): views is V & { [K in keyof V]: NonNullable<V[K]> } {
  return views.every((v) => v !== undefined);
}
