import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { badRequest } from "./status.js";
import type { KubeObject, Store, StoreEvent } from "./store.js";

type Json = Record<string, any>;

/**
 * Pod logs as the fake kubelet would serve them: each running container has
 * written one line saying it started, then whatever a test makes it write
 * (`write`). `follow` keeps the response open, sending each write as it
 * comes, until the pod is deleted (or is being deleted) or the client goes
 * away, as the kubelet does until the container stops. WARNING: no
 * timestamps, `previous` or `sinceTime`; `sinceSeconds` is ignored; a
 * follower that does not read is buffered in memory.
 */
export class PodLogs {
  /** What each container wrote after its start line, by pod uid and container. */
  private readonly written = new Map<string, string>();
  private readonly writes = new EventEmitter();
  private readonly stopWatching: () => void;

  constructor(private readonly store: Store) {
    // One listener per follower, and a test may open many.
    this.writes.setMaxListeners(0);
    const onChange = (e: StoreEvent) => {
      if (e.resource !== "pods" || e.type !== "DELETED") return;
      for (const key of this.written.keys()) if (key.startsWith(`${e.object.metadata.uid}/`)) this.written.delete(key);
    };
    store.events.on("change", onChange);
    this.stopWatching = () => store.events.off("change", onChange);
  }

  /** The container of a stored pod writes `text` (tests): its log grows and every follower gets it. */
  write(namespace: string, name: string, container: string, text: string): void {
    const pod = this.store.mustGet("pods", namespace, name);
    const key = `${pod.metadata.uid}/${container}`;
    this.written.set(key, (this.written.get(key) ?? "") + text);
    this.writes.emit(key, text);
  }

  stop(): void {
    this.stopWatching();
  }

  serve(namespace: string, name: string, query: URLSearchParams, res: ServerResponse): void {
    const pod = this.store.mustGet("pods", namespace, name);
    const container = containerOf(pod, query);
    const key = `${pod.metadata.uid}/${container}`;
    let left = Number(query.get("limitBytes") ?? 0) || Infinity;
    res.writeHead(200, { "content-type": "text/plain" });
    const send = (text: string): boolean => {
      const bytes = Buffer.from(text, "utf8");
      if (bytes.length >= left) {
        res.end(bytes.subarray(0, left));
        return false;
      }
      left -= bytes.length;
      res.write(bytes);
      return true;
    };
    const text = tail(`${startLine(pod, container)}${this.written.get(key) ?? ""}`, Number(query.get("tailLines") ?? -1));
    if (!send(text)) return;
    if (query.get("follow") !== "true") {
      res.end();
      return;
    }
    res.flushHeaders();
    const uid = pod.metadata.uid;
    const onWrite = (text: string) => {
      if (!send(text)) release();
    };
    const onChange = (e: StoreEvent) => {
      if (e.resource === "pods" && e.object.metadata.uid === uid && (e.type === "DELETED" || e.object.metadata.deletionTimestamp)) {
        release();
        res.end();
      }
    };
    const release = () => {
      this.writes.off(key, onWrite);
      this.store.events.off("change", onChange);
    };
    this.writes.on(key, onWrite);
    this.store.events.on("change", onChange);
    res.on("close", release);
  }
}

/** The container the query names, which must be running: the kubelet has no log of any other. */
function containerOf(pod: KubeObject, query: URLSearchParams): string {
  const containers = ((pod.spec as Json | undefined)?.containers ?? []) as Json[];
  const wanted = query.get("container") ?? (containers.length === 1 ? containers[0]!.name : undefined);
  if (!wanted) {
    throw badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${containers.map((c) => c.name).join(" ")}]`);
  }
  if (!containers.some((c) => c.name === wanted)) throw badRequest(`container ${wanted} is not valid for pod ${pod.metadata.name}`);
  return wanted as string;
}

function startLine(pod: KubeObject, container: string): string {
  const spec = ((pod.spec as Json).containers as Json[]).find((c) => c.name === container)!;
  const status = ((pod.status as Json | undefined)?.containerStatuses ?? []).find((c: Json) => c.name === container);
  const started = status?.state?.running?.startedAt as string | undefined;
  if (!started) throw badRequest(`container "${container}" in pod "${pod.metadata.name}" is waiting to start: ContainerCreating`);
  return `${started} container ${container} started (image ${spec.image})\n`;
}

/** The last `lines` lines of `text` (all of it when negative). */
function tail(text: string, lines: number): string {
  if (lines < 0) return text;
  const all = text.split(/(?<=\n)/);
  return all.slice(Math.max(all.length - lines, 0)).join("");
}
