import { Observable, type Subscription } from "rxjs";
import { UnavailableError } from "../../common/errors.js";
import type { Scope } from "../shared/scope.js";
import type { GroupChange, NamespaceView } from "./live-view.js";
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
  /**
   * The account namespaces to watch, resolved and permitted for the caller.
   * Asked again after every reload, so that the stream follows accounts and
   * namespaces added or removed; throwing ends the stream with that error.
   */
  scopes: () => readonly Scope[];
  application: string;
  cluster: string;
  name: string;
}

/**
 * How long a stream keeps showing a replaced view's groups while the new view
 * (a new client after a reload) lists, before it shows what the new one has.
 */
const replaceGraceMs = 10_000;

interface Followed {
  /** The view the reader's state came from. */
  view: NamespaceView;
  subscription?: Subscription;
  /** A view replacing it, followed once it has listed. */
  pending?: { view: NamespaceView; abort: AbortController };
}

/**
 * The groups of the selected namespaces' views: one snapshot, then each
 * change. Subscribing and taking the snapshot happen in one turn of the
 * event loop, so no change falls between them; a view still listing
 * contributes what it has and sends the rest as changes.
 *
 * Across reloads the stream goes on: groups of namespaces that come into
 * scope are sent as ADDED, those of namespaces that leave it as DELETED (as a
 * Kubernetes watch does for objects that stop matching its selector), and a
 * view replaced by a new client is followed once the new one has listed,
 * with only the difference sent.
 */
export function watchServerGroups(views: LiveViews, filter: WatchFilter): Observable<GroupBatch> {
  return new Observable<GroupBatch>((subscriber) => {
    const wanted = (g: ServerGroup) => matches(g, filter) && (!filter.name || g.name === filter.name);
    const shown = (view: NamespaceView) => view.list().filter(wanted);
    const followed = new Map<string, Followed>();

    const follow = (key: string, view: NamespaceView): void => {
      const entry: Followed = { view };
      followed.set(key, entry);
      entry.subscription = view.changes.subscribe({
        next: (change) => {
          if (wanted(change.group)) subscriber.next(batchOf(change));
        },
        complete: () => {
          // Closed with no replacement in sight (shutdown): the stream cannot go on unseen.
          if (followed.get(key) === entry && !entry.pending) subscriber.error(viewClosed(view));
        },
      });
    };

    /** Moves the reader from `entry`'s view to `next` (none: out of scope), returning the difference. */
    const moveTo = (key: string, entry: Followed, next: NamespaceView | undefined): GroupChange[] => {
      entry.subscription?.unsubscribe();
      entry.pending?.abort.abort();
      followed.delete(key);
      const before = new Map(shown(entry.view).map((g) => [g.name, g]));
      const changes: GroupChange[] = [];
      if (next) {
        follow(key, next);
        for (const group of shown(next)) {
          const old = before.get(group.name);
          before.delete(group.name);
          if (!old) changes.push({ type: "ADDED", group });
          else if (JSON.stringify(old) !== JSON.stringify(group)) changes.push({ type: "MODIFIED", group });
        }
      }
      for (const group of before.values()) changes.push({ type: "DELETED", group });
      return changes;
    };

    const replaceOnceListed = (key: string, entry: Followed, next: NamespaceView): void => {
      if (entry.pending?.view === next) return;
      entry.pending?.abort.abort();
      const abort = new AbortController();
      entry.pending = { view: next, abort };
      void untilReady(next, replaceGraceMs, abort.signal).then(() => {
        if (abort.signal.aborted || followed.get(key) !== entry) return;
        const changes = moveTo(key, entry, next);
        if (changes.length) subscriber.next({ snapshot: false, changes });
      });
    };

    const select = (first: boolean): void => {
      let scopes: readonly Scope[];
      try {
        scopes = filter.scopes();
      } catch (err) {
        subscriber.error(err);
        return;
      }
      const next = new Map<string, NamespaceView>();
      for (const s of scopes) {
        const view = views.view(s.account.name, s.namespace);
        if (view) next.set(`${s.account.name}\u0000${s.namespace}`, view);
      }
      const changes: GroupChange[] = [];
      for (const [key, entry] of [...followed]) {
        const view = next.get(key);
        if (view === entry.view) {
          entry.pending?.abort.abort();
          entry.pending = undefined;
        } else if (view && !view.ready) {
          replaceOnceListed(key, entry, view);
        } else {
          changes.push(...moveTo(key, entry, view));
        }
      }
      for (const [key, view] of next) {
        if (followed.has(key)) continue;
        follow(key, view);
        changes.push(...shown(view).map((group): GroupChange => ({ type: "ADDED", group })));
      }
      if (first || changes.length) subscriber.next({ snapshot: first, changes });
    };

    select(true);
    const reloads = views.changed.subscribe(() => select(false));
    return () => {
      reloads.unsubscribe();
      for (const entry of followed.values()) {
        entry.subscription?.unsubscribe();
        entry.pending?.abort.abort();
      }
    };
  });
}

function viewClosed(view: NamespaceView): UnavailableError {
  return new UnavailableError(
    `the view of namespace "${view.namespace}" of account "${view.account.name}" was closed (kubedriver is shutting down); watch again for a new snapshot`,
    { reason: "VIEW_CLOSED" },
  );
}

/** Resolves once `view` has listed and is watching, or after `ms`, or on abort. */
async function untilReady(view: NamespaceView, ms: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + ms;
  while (!view.ready && !view.closed && !signal.aborted && Date.now() < deadline) await view.nextProgress(deadline - Date.now(), signal);
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
