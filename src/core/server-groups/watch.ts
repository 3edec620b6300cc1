import { concat, defer, filter as where, map, merge, Observable, throwError } from "rxjs";
import { UnavailableError } from "../../common/errors.js";
import type { GroupChange } from "./live-view.js";
import type { LiveViews } from "./live-views.js";
import { matches } from "./list.js";
import type { ServerGroup } from "./spec.js";

/** What a WatchServerGroups subscriber is sent: the snapshot first, then changes. */
export interface GroupBatch {
  snapshot: boolean;
  /** At most one per group. */
  changes: GroupChange[];
}

export interface WatchFilter {
  /** The account namespaces to watch, already resolved and permitted. */
  scopes: readonly { account: string; namespace: string }[];
  application: string;
  cluster: string;
  name: string;
}

/**
 * The groups of the selected namespaces' views: one snapshot, then each
 * change. Subscribing and taking the snapshot happen in one turn of the
 * event loop, so no change falls between them; a view still listing
 * contributes what it has and sends the rest as changes.
 */
export function watchServerGroups(views: LiveViews, filter: WatchFilter): Observable<GroupBatch> {
  return defer(() => {
    const selected = filter.scopes.flatMap((s) => views.view(s.account, s.namespace) ?? []);
    const wanted = (g: ServerGroup) => matches(g, filter) && (!filter.name || g.name === filter.name);
    // A view closes when its account is removed or reconnected by a reload: the stream cannot go on unseen.
    const untilClosed = selected.map((v) =>
      concat(
        v.changes,
        throwError(
          () =>
            new UnavailableError(
              `the view of namespace "${v.namespace}" of account "${v.account.name}" was closed (the configuration changed); watch again for a new snapshot`,
              { reason: "VIEW_CLOSED" },
            ),
        ),
      ),
    );
    const changes = merge(...untilClosed).pipe(
      where((c) => wanted(c.group)),
      map(batchOf),
    );
    return new Observable<GroupBatch>((subscriber) => {
      const snapshot = selected.flatMap((v) => v.list()).filter(wanted);
      subscriber.next({ snapshot: true, changes: snapshot.map((group) => ({ type: "ADDED", group })) });
      return changes.subscribe(subscriber);
    });
  });
}

/** One change as a batch, the same object for every subscriber, so that it is converted and encoded once. */
const single = new WeakMap<GroupChange, GroupBatch>();
function batchOf(change: GroupChange): GroupBatch {
  let batch = single.get(change);
  if (!batch) single.set(change, (batch = { snapshot: false, changes: [change] }));
  return batch;
}

/**
 * Two batches as one, for a reader that has not taken the older yet: the
 * latest state of each group wins, and what the reader never saw stays
 * unseen (added then deleted is nothing; a snapshot stays all ADDED).
 */
export function mergeBatches(older: GroupBatch, newer: GroupBatch): GroupBatch {
  const byKey = new Map<string, GroupChange>(older.changes.map((c) => [keyOf(c.group), c]));
  for (const change of newer.changes) {
    const key = keyOf(change.group);
    const before = byKey.get(key);
    if (!before) {
      if (!(older.snapshot && change.type === "DELETED")) byKey.set(key, older.snapshot ? { ...change, type: "ADDED" } : change);
      continue;
    }
    if (change.type === "DELETED") {
      if (before.type === "ADDED") byKey.delete(key);
      else byKey.set(key, change);
    } else {
      // Seen as added (or as gone, then back): still new to the reader, or changed since.
      const type = before.type === "ADDED" ? "ADDED" : before.type === "DELETED" ? "MODIFIED" : change.type;
      byKey.set(key, { type, group: change.group });
    }
  }
  return { snapshot: older.snapshot || newer.snapshot, changes: [...byKey.values()] };
}

function keyOf(g: ServerGroup): string {
  return `${g.account}/${g.namespace}/${g.name}`;
}
