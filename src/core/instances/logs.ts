import type { V1Pod } from "@kubernetes/client-node";
import { Observable } from "rxjs";
import { InvalidArgumentError, NotFoundError } from "../../common/errors.js";
import { utf8Head } from "../../common/utf8.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { followPodLog, readPodLog } from "../../kube/pod-logs.js";
import type { Account } from "../accounts/account.js";
import { about, whereIs } from "../shared/refs.js";
import { managedNamespace } from "../shared/scope.js";
import { instanceNotFound, instanceOrResult } from "./read.js";

/** The most a single GetInstanceLogs answers: the rest of a long log is left out, and said so. */
export const maxLogBytes = 1024 * 1024;

export interface LogRequest {
  namespace: string;
  name: string;
  /** Empty: the pod's only container. */
  container: string;
  tailLines?: number;
  sinceSeconds?: number;
}

export interface InstanceLog {
  content: string;
  truncated: boolean;
}

/** The container's log from the start of the selection, at most `limitBytes` of it. */
export async function getInstanceLogs(account: Account, req: LogRequest & { limitBytes?: number }, opts?: KubeCallOptions): Promise<InstanceLog> {
  managedNamespace(account, req.namespace);
  const container = await containerOf(account, req, opts);
  const limit = Math.min(req.limitBytes || maxLogBytes, maxLogBytes);
  // One byte more than asked says whether there was more.
  const text = await readPodLog(account.kube, req.namespace, req.name, { container, tailLines: req.tailLines, sinceSeconds: req.sinceSeconds, limitBytes: limit + 1 }, opts);
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= limit) return { content: text, truncated: false };
  return { content: utf8Head(bytes, limit).toString("utf8"), truncated: true };
}

/**
 * The container's log as it is written: completes when the log ends (the
 * container stopped, the pod went away), and stops following on unsubscribe.
 * Validation and the pod's read happen before the observable is returned,
 * so their errors end the call before any message.
 */
export async function followInstanceLogs(account: Account, req: LogRequest, opts?: KubeCallOptions): Promise<Observable<string>> {
  managedNamespace(account, req.namespace);
  const container = await containerOf(account, req, opts);
  return new Observable<string>((subscriber) => {
    const stop = new AbortController();
    followPodLog(account.kube, req.namespace, req.name, { container, tailLines: req.tailLines, sinceSeconds: req.sinceSeconds }, (text) => subscriber.next(text), stop.signal).then(
      () => subscriber.complete(),
      (err: unknown) => subscriber.error(err),
    );
    return () => stop.abort();
  });
}

async function containerOf(account: Account, req: LogRequest, opts?: KubeCallOptions): Promise<string> {
  const found = await instanceOrResult(account, req.namespace, req.name, opts);
  if ("outcome" in found) {
    const why = found.outcome === "not-managed" ? " (a pod of that name exists, but it is not part of a kubedriver server group)" : "";
    throw instanceNotFound({ account: account.name, namespace: req.namespace, name: req.name }, why);
  }
  return pickContainer(account, found, req);
}

function pickContainer(account: Account, pod: V1Pod, req: LogRequest): string {
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  if (req.container === "") {
    if (names.length === 1) return names[0]!;
    const description = `is required: pod "${req.name}" has containers ${names.join(", ")}`;
    throw InvalidArgumentError.of("container", description);
  }
  if (!names.includes(req.container)) {
    const ref = { account: account.name, namespace: req.namespace, name: req.container };
    throw new NotFoundError(`container "${req.container}" not found in pod "${req.name}" (it has ${names.join(", ")}) ${whereIs(ref)}`, {
      reason: "CONTAINER_NOT_FOUND",
      ...about("container", ref, `account ${account.name}, namespace ${req.namespace}, instance ${req.name}`),
    });
  }
  return req.container;
}
