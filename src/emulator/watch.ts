import type { ResourceType } from "./resources.js";
import { gone, type StatusBody } from "./status.js";
import type { KubeObject, Store, StoreEvent } from "./store.js";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

/** Where a watch writes its events; `closed` is called once when the client goes away. */
export interface WatchSink {
  event(type: WatchEventType, object: KubeObject | StatusBody): void;
  end(): void;
  onClose(listener: () => void): void;
}

export interface WatchRequest {
  type: ResourceType;
  /** Only objects of this namespace; all namespaces when absent. */
  namespace?: string;
  /** The label and field selectors, combined. */
  matches(obj: KubeObject): boolean;
  /** As sent: absent, "0" or a revision. */
  resourceVersion?: string;
  /** After validation: whether the current state comes first as ADDED events. */
  sendInitialEvents: boolean;
  allowWatchBookmarks: boolean;
  timeoutSeconds?: number;
}

/** The API server's `--min-request-timeout` (1800 s); a watch without timeoutSeconds ends between one and two of these. */
const minRequestTimeoutMs = 1_800_000;
/** The watch cache sends a bookmark about every minute, and one 2 s before the deadline. */
const bookmarkEveryMs = 60_000;
const bookmarkBeforeDeadlineMs = 2_000;

/**
 * One watch, served like kube-apiserver's watch cache serves it: the initial
 * state as ADDED events when asked for (the default for an unset or "0"
 * resourceVersion), then every later write that matches the selectors. A write
 * that makes an object stop matching is a DELETED event carrying the previous
 * content at the new resourceVersion, one that makes it start matching an
 * ADDED. From a resourceVersion older than the store's history, one ERROR
 * event with 410 Expired ends the watch. Bookmarks, when allowed, follow the
 * initial events (annotated `k8s.io/initial-events-end`), come about every
 * minute and 2 s before the deadline, and only when the revision moved on.
 */
export function serveWatch(store: Store, w: WatchRequest, sink: WatchSink): void {
  const inScope = (resource: string, obj: KubeObject) =>
    resource === w.type.name && (w.namespace === undefined || obj.metadata.namespace === w.namespace);
  let sent = 0;
  const emit = (type: WatchEventType, obj: KubeObject) => {
    sink.event(type, { ...obj, kind: w.type.kind, apiVersion: "v1" });
    sent = Math.max(sent, Number(obj.metadata.resourceVersion ?? 0));
  };
  const deliver = (e: StoreEvent) => {
    if (!inScope(e.resource, e.object)) return;
    const now = e.type !== "DELETED" && w.matches(e.object);
    const before = e.previous !== undefined && w.matches(e.previous);
    if (now && before) emit("MODIFIED", e.object);
    else if (now) emit("ADDED", e.object);
    else if (before) emit("DELETED", { ...e.previous!, metadata: { ...e.previous!.metadata, resourceVersion: String(e.revision) } });
  };
  const bookmark = (annotations?: Record<string, string>) => {
    const revision = store.currentRevision;
    sink.event("BOOKMARK", {
      kind: w.type.kind,
      apiVersion: "v1",
      metadata: { resourceVersion: String(revision), ...(annotations ? { annotations } : {}) } as KubeObject["metadata"],
      ...structuredClone(w.type.emptyShape),
    });
    sent = revision;
  };

  const requested = w.resourceVersion ? Number(w.resourceVersion) : 0;
  let backlog: StoreEvent[] = [];
  if (w.sendInitialEvents) {
    for (const obj of store.list(w.type.name, w.namespace, w.matches)) emit("ADDED", obj);
    if (w.allowWatchBookmarks) bookmark({ "k8s.io/initial-events-end": "true" });
  } else if (requested > 0) {
    const after = store.eventsAfter(requested);
    if ("oldest" in after) {
      sink.event("ERROR", gone(`too old resource version: ${requested} (${after.oldest})`).body);
      sink.end();
      return;
    }
    backlog = after.events;
  }
  for (const e of backlog) deliver(e);
  store.events.on("change", deliver);

  const timeoutMs = w.timeoutSeconds ? w.timeoutSeconds * 1000 : minRequestTimeoutMs * (1 + Math.random());
  const deadline = Date.now() + timeoutMs;
  const timeout = setTimeout(() => finish(true), timeoutMs);
  let bookmarkTimer: NodeJS.Timeout | undefined;
  const scheduleBookmark = () => {
    const at = Math.min(Date.now() + bookmarkEveryMs, deadline - bookmarkBeforeDeadlineMs);
    if (at <= Date.now()) return;
    bookmarkTimer = setTimeout(() => {
      if (store.currentRevision > sent) bookmark();
      scheduleBookmark();
    }, at - Date.now());
  };
  if (w.allowWatchBookmarks) scheduleBookmark();
  let finished = false;
  const finish = (endStream: boolean) => {
    if (finished) return;
    finished = true;
    store.events.off("change", deliver);
    clearTimeout(timeout);
    clearTimeout(bookmarkTimer);
    if (endStream) sink.end();
  };
  sink.onClose(() => finish(false));
}
