import type { AccountRegistry } from "../accounts/registry.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { pointer, type JsonPatch } from "../../kube/json-patch.js";
import { listPods, patchPod } from "../../kube/pods.js";
import { patchReplicationController, readReplicationController } from "../../kube/replication-controllers.js";
import { isNotFound } from "../../common/errors.js";
import { annotationKeys, loadBalancersIn } from "./labels.js";
import { getServerGroup, notFound } from "./read.js";
import { managedNamespace } from "./scope.js";
import type { ServerGroup, ServerGroupRef } from "./spec.js";
import { podSelector, requireServerGroup } from "./view.js";

export interface TrafficChange {
  serverGroup: ServerGroup;
  /** Pods whose labels this call changed. */
  changedInstances: string[];
}

/**
 * Flips every `load-balancer-*` label of the RC's pod template and of every
 * pod to "true" (enable) or "false" (disable), so the Services start or stop
 * routing to the pods. Idempotent; with a request id, a retry returns the
 * first call's list of changed pods (kept in an annotation on the RC).
 */
export async function setTraffic(
  registry: AccountRegistry,
  ref: ServerGroupRef,
  enabled: boolean,
  requestId: string | undefined,
  opts?: KubeCallOptions,
): Promise<TrafficChange> {
  const account = managedNamespace(registry, ref.account, ref.namespace);
  const rc = await readReplicationController(account.kube, ref.namespace, ref.name, opts).catch((err: unknown) => {
    throw isNotFound(err) ? notFound(ref, err) : err;
  });
  requireServerGroup(rc, ref.account, ref.namespace, ref.name);
  const operation = enabled ? "enable" : "disable";
  const last = parseLastRequest(rc.metadata?.annotations?.[annotationKeys.lastRequest]);
  if (requestId && last?.id === requestId && last.operation === operation) {
    return { serverGroup: await getServerGroup(registry, ref, opts), changedInstances: last.changedInstances };
  }

  const value = String(enabled);
  const templateLabels = rc.spec?.template?.metadata?.labels ?? {};
  const rcPatch: JsonPatch = loadBalancersIn(templateLabels)
    .filter((lb) => templateLabels[`load-balancer-${lb}`] !== value)
    .map((lb) => ({ op: "replace", path: pointer("spec", "template", "metadata", "labels", `load-balancer-${lb}`), value }));

  // The template first: pods the controller creates from now on get the new value.
  if (rcPatch.length > 0) await patchReplicationController(account.kube, ref.namespace, ref.name, rcPatch, opts);

  const pods = await listPods(account.kube, ref.namespace, podSelector(ref.name), opts);
  const changedInstances: string[] = [];
  await Promise.all(
    pods.map(async (pod) => {
      const labels = pod.metadata?.labels ?? {};
      const patch: JsonPatch = loadBalancersIn(labels)
        .filter((lb) => labels[`load-balancer-${lb}`] !== value)
        .map((lb) => ({ op: "replace", path: pointer("metadata", "labels", `load-balancer-${lb}`), value }));
      if (patch.length === 0 || pod.metadata?.deletionTimestamp) return;
      await patchPod(account.kube, ref.namespace, pod.metadata!.name!, patch, opts).catch((err: unknown) => {
        // A pod deleted meanwhile needs no label.
        if (!isNotFound(err)) throw err;
      });
      changedInstances.push(pod.metadata!.name!);
    }),
  );
  changedInstances.sort();

  if (requestId) {
    const record = JSON.stringify({ id: requestId, operation, changedInstances });
    await patchReplicationController(
      account.kube,
      ref.namespace,
      ref.name,
      [{ op: "add", path: pointer("metadata", "annotations", annotationKeys.lastRequest), value: record }],
      opts,
    );
  }
  return { serverGroup: await getServerGroup(registry, ref, opts), changedInstances };
}

function parseLastRequest(text: string | undefined): { id: string; operation: string; changedInstances: string[] } | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as { id: string; operation: string; changedInstances: string[] };
  } catch {
    return undefined;
  }
}
