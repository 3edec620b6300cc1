import type { V1Pod, V1ReplicationController } from "@kubernetes/client-node";
import type { AutoscalerPolicy } from "../shared/hpa.js";
import { annotationKeys, isReservedAnnotation, labelKeys } from "../shared/ownership.js";
import { deregisteredFrom, isDisabled, isEnabled, loadBalancersIn } from "../shared/traffic-labels.js";
import { parseServerGroupName } from "./naming.js";
import type { ContainerState, Instance, ServerGroup, ServerGroupSpec, TrafficState } from "./spec.js";

/** A server group as the API shows it: the requested spec, with the live state of the RC, its pods and its autoscaler. */
export function serverGroupView(account: string, rc: V1ReplicationController, pods: V1Pod[], autoscaler?: AutoscalerPolicy): ServerGroup {
  const meta = rc.metadata!;
  const requested = JSON.parse(meta.annotations![annotationKeys.spec]!) as ServerGroupSpec;
  const template = rc.spec?.template;
  const templateLabels = template?.metadata?.labels ?? {};
  const ownAnnotations = Object.fromEntries(Object.entries(meta.annotations ?? {}).filter(([k]) => !isReservedAnnotation(k)));
  const parsed = parseServerGroupName(meta.name!);
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const traffic = trafficOf([templateLabels, ...live.map((p) => p.metadata?.labels ?? {})]);
  const spec: ServerGroupSpec = {
    ...requested,
    targetSize: rc.spec?.replicas ?? 0,
    loadBalancers: loadBalancersIn(templateLabels),
    annotations: ownAnnotations,
  };
  return {
    account,
    namespace: meta.namespace!,
    name: meta.name!,
    spec,
    cluster: meta.labels?.[labelKeys.cluster] ?? parsed?.cluster ?? "",
    version: parsed?.version ?? 0,
    replicas: rc.status?.replicas ?? 0,
    readyReplicas: rc.status?.readyReplicas ?? 0,
    generation: meta.generation ?? 0,
    observedGeneration: rc.status?.observedGeneration ?? 0,
    enabled: traffic === "enabled",
    traffic,
    images: (template?.spec?.containers ?? []).map((c) => c.image ?? ""),
    imagePullSecrets: (template?.spec?.imagePullSecrets ?? []).map((s) => s.name ?? ""),
    instances: live
      .sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1))
      .map(instanceView),
    createTime: meta.creationTimestamp ? new Date(meta.creationTimestamp) : undefined,
    uid: meta.uid ?? "",
    autoscaler,
  };
}

function instanceView(pod: V1Pod): Instance {
  const status = pod.status;
  const phase = (status?.phase as Instance["phase"] | undefined) ?? "Unknown";
  const ready = status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  const enabled = isEnabled(pod.metadata?.labels);
  return {
    name: pod.metadata!.name!,
    phase,
    ready,
    enabled,
    serving: phase === "Running" && ready && enabled && !pod.metadata?.deletionTimestamp,
    podIp: status?.podIP ?? "",
    hostIp: status?.hostIP ?? "",
    nodeName: pod.spec?.nodeName ?? "",
    containers: (status?.containerStatuses ?? []).map(
      (c): ContainerState => ({
        name: c.name,
        image: c.image,
        ready: c.ready,
        restartCount: c.restartCount,
        state: c.state?.running ? "running" : c.state?.terminated ? "terminated" : c.state?.waiting ? "waiting" : "unknown",
        reason: c.state?.waiting?.reason ?? c.state?.terminated?.reason ?? "",
        message: c.state?.waiting?.message ?? c.state?.terminated?.message ?? "",
        startTime: c.state?.running?.startedAt ? new Date(c.state.running.startedAt) : undefined,
      }),
    ),
    createTime: pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp) : undefined,
    deregisteredLoadBalancers: deregisteredFrom(pod.metadata?.annotations),
  };
}

/** Enabled or disabled only when the template and every pod agree. */
function trafficOf(labelSets: Record<string, string>[]): TrafficState {
  if (labelSets.every(isEnabled)) return "enabled";
  if (labelSets.every(isDisabled)) return "disabled";
  return "partial";
}
