import type { ObjectRef } from "../shared/refs.js";

/** A load balancer (a Service) in kubedriver's own plain types. */
export type LoadBalancerRef = ObjectRef;

export type ServiceType = "ClusterIP" | "NodePort" | "LoadBalancer";
export type SessionAffinity = "None" | "ClientIP";

export interface ServicePortSpec {
  name: string;
  protocol: "TCP" | "UDP" | "SCTP";
  port: number;
  /** Absent: `port`. */
  targetPort?: number;
  targetPortName?: string;
  /** Absent: the cluster chooses (for NodePort and LoadBalancer types). */
  nodePort?: number;
}

/** What an upsert asks for; an absent field keeps the existing Service's value. */
export interface LoadBalancerChange {
  ports?: ServicePortSpec[];
  type?: ServiceType;
  sessionAffinity?: SessionAffinity;
  externalIps?: string[];
  clusterIp?: string;
  /** Empty removes it. */
  loadBalancerIp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface LoadBalancer extends LoadBalancerRef {
  ports: ServicePortSpec[];
  type: ServiceType;
  sessionAffinity: SessionAffinity;
  externalIps: string[];
  clusterIp: string;
  loadBalancerIp: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  selector: Record<string, string>;
  ingress: string[];
  /** Server groups with an enabled pod it routes to, sorted. */
  serverGroups: string[];
  instanceCount: number;
  managed: boolean;
}
