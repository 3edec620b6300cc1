import type { V1Pod, V1Service, V1ServicePort } from "@kubernetes/client-node";
import { isOurs, serverGroupOf, withoutMark } from "../shared/ownership.js";
import { routesTo } from "./ownership.js";
import type { LoadBalancer, ServicePortSpec, ServiceType, SessionAffinity } from "./spec.js";

/** A Service as the API shows it, with the live pods of kubedriver among `pods` that it routes to. */
export function loadBalancerView(account: string, svc: V1Service, pods: V1Pod[]): LoadBalancer {
  const spec = svc.spec ?? {};
  const behind = pods.filter((p) => !p.metadata?.deletionTimestamp && routesTo(svc, p));
  return {
    account,
    namespace: svc.metadata!.namespace!,
    name: svc.metadata!.name!,
    ports: (spec.ports ?? []).map(portView),
    type: (spec.type as ServiceType | undefined) ?? "ClusterIP",
    sessionAffinity: (spec.sessionAffinity as SessionAffinity | undefined) ?? "None",
    externalIps: spec.externalIPs ?? [],
    clusterIp: spec.clusterIP ?? "",
    loadBalancerIp: spec.loadBalancerIP ?? "",
    labels: withoutMark(svc.metadata?.labels),
    annotations: svc.metadata?.annotations ?? {},
    selector: spec.selector ?? {},
    ingress: (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || "").filter(Boolean),
    serverGroups: [...new Set(behind.map(serverGroupOf).filter(Boolean))].sort(),
    instanceCount: behind.length,
    managed: isOurs(svc),
  };
}

function portView(p: V1ServicePort): ServicePortSpec {
  const target = p.targetPort;
  return {
    name: p.name ?? "",
    protocol: (p.protocol as ServicePortSpec["protocol"] | undefined) ?? "TCP",
    port: p.port,
    targetPort: typeof target === "number" ? target : undefined,
    targetPortName: typeof target === "string" ? target : undefined,
    nodePort: p.nodePort,
  };
}
