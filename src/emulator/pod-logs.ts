import type { ServerResponse } from "node:http";
import { badRequest } from "./status.js";
import type { KubeObject, Store, StoreEvent } from "./store.js";

type Json = Record<string, any>;

/**
 * Pod logs as the fake kubelet would serve them: each running container has
 * written one line saying it started. `follow` keeps the response open until
 * the pod is deleted or the client goes away, as the kubelet does until the
 * container stops. WARNING: nothing else is ever logged.
 */
export function serveLog(store: Store, namespace: string, name: string, query: URLSearchParams, res: ServerResponse): void {
  const pod = store.mustGet("pods", namespace, name);
  const text = logOf(pod, query);
  res.writeHead(200, { "content-type": "text/plain" });
  res.write(text);
  if (query.get("follow") !== "true") {
    res.end();
    return;
  }
  const uid = pod.metadata.uid;
  const onChange = (e: StoreEvent) => {
    if (e.resource === "pods" && e.object.metadata.uid === uid && (e.type === "DELETED" || e.object.metadata.deletionTimestamp)) end();
  };
  const end = () => {
    store.events.off("change", onChange);
    res.end();
  };
  store.events.on("change", onChange);
  res.on("close", () => store.events.off("change", onChange));
}

function logOf(pod: KubeObject, query: URLSearchParams): string {
  const containers = ((pod.spec as Json | undefined)?.containers ?? []) as Json[];
  const wanted = query.get("container") ?? (containers.length === 1 ? containers[0]!.name : undefined);
  if (!wanted) {
    throw badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${containers.map((c) => c.name).join(" ")}]`);
  }
  const container = containers.find((c) => c.name === wanted);
  if (!container) throw badRequest(`container ${wanted} is not valid for pod ${pod.metadata.name}`);
  const status = ((pod.status as Json | undefined)?.containerStatuses ?? []).find((c: Json) => c.name === wanted);
  const started = status?.state?.running?.startedAt as string | undefined;
  if (!started) throw badRequest(`container "${wanted}" in pod "${pod.metadata.name}" is waiting to start: ContainerCreating`);
  let lines = [`${started} container ${wanted} started (image ${container.image})`];
  const tail = Number(query.get("tailLines") ?? -1);
  if (tail >= 0) lines = lines.slice(Math.max(lines.length - tail, 0));
  let text = lines.map((l) => `${l}\n`).join("");
  const limit = Number(query.get("limitBytes") ?? 0);
  if (limit > 0) text = Buffer.from(text).subarray(0, limit).toString("utf8");
  return text;
}
