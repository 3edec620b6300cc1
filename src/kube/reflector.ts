import { sleep } from "../common/sleep.js";
import { traceViewSync } from "../observability/background-traces.js";
import { recordSkippedObject, recordWatchRestart } from "../observability/metrics.js";
import type { KubeClient } from "./client.js";
import { collectionPath, listAt, type ListedKind } from "./kinds.js";

/** The metadata a reflector reads of every object. */
export interface Watched {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

/** What a reflector tells its store, in order. */
export interface ReflectorSink<T> {
  /** Everything there is, from a list: after the start and after every relist (410 Gone). */
  replace(items: T[], resourceVersion: string): void;
  /** One change seen by the watch. */
  change(type: ChangeType, object: T, resourceVersion: string): void;
  /** The watch moved on to `resourceVersion` with no change we select (a bookmark). */
  progress(resourceVersion: string): void;
  /** The watch broke (it is resumed, with backoff), or is open: after the list, only once the watch is. */
  connected(up: boolean, error?: unknown): void;
}

export interface ReflectorSpec<T> {
  client: KubeClient;
  kind: ListedKind<T>;
  namespace: string;
  /** Empty: every object of the kind in the namespace. */
  labelSelector: string;
}

export interface ReflectorOptions {
  /** Asked of the API server per watch; it then ends the watch, which is resumed at once. */
  watchTimeoutSeconds?: number;
  /** After a failure, waits from this long, doubling up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /**
   * A watch that sends neither an event nor a bookmark for this long is
   * taken for broken (an API server, or a proxy, holding it open and silent)
   * and replaced by a new LIST and WATCH. kube-apiserver sends a bookmark
   * about every minute to a watch that asks for them, so the default, 75 s,
   * is a minute and a margin; it bounds how stale a view can be.
   */
  maxSilenceMs?: number;
}

export const defaultMaxSilenceMs = 75_000;

/** A watch that ends sooner than this counts as a failure to watch, for backoff. */
const minWatchMs = 1_000;

/**
 * client-go's reflector, for client-node: one LIST, then one WATCH from the
 * list's resourceVersion with bookmarks, resumed from the last version seen
 * after the API server ends it or the connection drops, and listed again
 * only when that version has expired (410 Gone). client-node's own ListWatch
 * asks for no bookmarks, stops for good on the first error and opens its
 * own connections; this keeps the account's client, deadlines and agent.
 */
export class Reflector<T extends Watched> {
  private readonly stop = new AbortController();
  private resourceVersion = "";
  private running?: Promise<void>;

  constructor(
    private readonly spec: ReflectorSpec<T>,
    private readonly sink: ReflectorSink<T>,
    private readonly options: ReflectorOptions = {},
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    const { backoffMs = 250, maxBackoffMs = 5_000 } = this.options;
    let backoff = backoffMs;
    let healthy = false;
    while (!this.stop.signal.aborted) {
      const sync = traceViewSync(this.spec, !this.resourceVersion);
      try {
        if (!this.resourceVersion) {
          const { client, kind, namespace, labelSelector } = this.spec;
          const { items, resourceVersion } = await sync.run(() => listAt(client, kind, namespace, labelSelector, { signal: this.stop.signal }));
          this.resourceVersion = resourceVersion;
          const named = items.filter(usable);
          if (named.length < items.length) recordSkippedObject(client.account, kind.plural, "no_name");
          this.sink.replace(named, resourceVersion);
        }
        const started = Date.now();
        const outcome = await sync.run(() =>
          this.watchOnce(() => {
            sync.end();
            if (!healthy) this.sink.connected((healthy = true));
          }),
        );
        sync.end();
        if (outcome === "expired") this.resourceVersion = "";
        if (outcome === "silent") {
          // What the view holds may be old by now: readers go live until a new LIST has replaced it.
          this.resourceVersion = "";
          recordWatchRestart(this.spec.client.account, this.spec.kind.plural, "silent");
          if (healthy) this.sink.connected((healthy = false), new Error(`the watch sent nothing for ${this.options.maxSilenceMs ?? defaultMaxSilenceMs} ms`));
        }
        // A watch the server ends at once, again and again, must not become a tight loop.
        if (outcome === "ended" && Date.now() - started < minWatchMs) {
          await sleep(Math.random() * backoff, this.stop.signal);
          backoff = Math.min(backoff * 2, maxBackoffMs);
        } else backoff = backoffMs;
      } catch (err) {
        sync.end(err);
        if (this.stop.signal.aborted) break;
        if (healthy) this.sink.connected((healthy = false), err);
        // Full jitter, so that replicas and namespaces resuming together do not hit the API server in step.
        await sleep(Math.random() * backoff, this.stop.signal);
        backoff = Math.min(backoff * 2, maxBackoffMs);
      }
    }
  }

  private async watchOnce(opened: () => void): Promise<"ended" | "expired" | "silent"> {
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 60);
    // Past the asked timeout by a margin, a silent connection is taken for a dead one.
    const watchdog = AbortSignal.timeout((timeoutSeconds + 30) * 1000);
    const ended = new AbortController();
    const signal = AbortSignal.any([this.stop.signal, watchdog, ended.signal]);
    let expired = false;
    let silent = false;
    const silence = setTimeout(() => {
      silent = true;
      ended.abort();
    }, this.options.maxSilenceMs ?? defaultMaxSilenceMs);
    const outcome = await this.spec.client.watch(
      { verb: "watch", kind: this.spec.kind.plural, namespace: this.spec.namespace },
      collectionPath(this.spec.kind, this.spec.namespace),
      {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: "true",
        labelSelector: this.spec.labelSelector,
        timeoutSeconds: String(timeoutSeconds),
      },
      (type, object) => {
        if (ended.signal.aborted) return;
        silence.refresh();
        const version = (object as Watched)?.metadata?.resourceVersion ?? "";
        if (type === "ADDED" || type === "MODIFIED" || type === "DELETED") {
          this.resourceVersion = version || this.resourceVersion;
          if (!usable(object)) return recordSkippedObject(this.spec.client.account, this.spec.kind.plural, "no_name");
          this.sink.change(type, object as T, this.resourceVersion);
        } else if (type === "BOOKMARK") {
          this.resourceVersion = version || this.resourceVersion;
          this.sink.progress(this.resourceVersion);
        } else if (type === "ERROR") {
          // A Status: 410 means our version is too old to resume from; anything else, start the watch again.
          expired = (object as { code?: number })?.code === 410;
          ended.abort();
        }
      },
      signal,
      opened,
    ).finally(() => clearTimeout(silence));
    return silent ? "silent" : expired ? "expired" : outcome;
  }
}

/** An object a store can key: every object the API server sends has a name; one without is left out. */
function usable(object: unknown): boolean {
  return typeof (object as Watched | undefined)?.metadata?.name === "string";
}
