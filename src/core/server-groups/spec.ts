import type { AutoscalerPolicy } from "../shared/hpa.js";
import type { ObjectRef } from "../shared/refs.js";

/** What a server group is made of: kubedriver's own plain types, free of proto and wire concerns. */
export interface ServerGroupSpec {
  application: string;
  stack: string;
  detail: string;
  targetSize: number;
  containers: ContainerSpec[];
  /** Services (same namespace) whose selectors the pods carry labels for. */
  loadBalancers: string[];
  volumes: VolumeSpec[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  nodeSelector: Record<string, string>;
}

export interface ContainerSpec {
  name: string;
  image: string;
  command: string[];
  args: string[];
  env: EnvVarSpec[];
  ports: PortSpec[];
  resources: { requests: Quantities; limits: Quantities };
  livenessProbe?: ProbeSpec;
  readinessProbe?: ProbeSpec;
  volumeMounts: VolumeMountSpec[];
}

export interface Quantities {
  cpu?: string;
  memory?: string;
}

export interface EnvVarSpec {
  name: string;
  value?: string;
  secretKey?: KeyRef;
  configMapKey?: KeyRef;
}

export interface KeyRef {
  name: string;
  key: string;
}

export interface PortSpec {
  name?: string;
  containerPort: number;
  protocol: "TCP" | "UDP" | "SCTP";
}

/** Timings in whole seconds; 0 means the Kubernetes default. */
export interface ProbeSpec {
  exec?: { command: string[] };
  httpGet?: { path: string; port?: number; portName?: string; host?: string; scheme: "HTTP" | "HTTPS"; headers: { name: string; value: string }[] };
  tcpSocket?: { port?: number; portName?: string; host?: string };
  initialDelaySeconds: number;
  timeoutSeconds: number;
  periodSeconds: number;
  successThreshold: number;
  failureThreshold: number;
}

export interface VolumeMountSpec {
  name: string;
  mountPath: string;
  readOnly: boolean;
  subPath?: string;
}

export interface VolumeSpec {
  name: string;
  emptyDir?: { memory: boolean; sizeLimit?: string };
  configMap?: { name: string; items: KeyToPath[]; defaultMode?: number; optional: boolean };
  secret?: { secretName: string; items: KeyToPath[]; defaultMode?: number; optional: boolean };
  persistentVolumeClaim?: { claimName: string; readOnly: boolean };
}

export interface KeyToPath {
  key: string;
  path: string;
}

/** Where a server group lives. */
export type ServerGroupRef = ObjectRef;

/** A server group as read back from the cluster. */
export interface ServerGroup extends ServerGroupRef {
  spec: ServerGroupSpec;
  cluster: string;
  version: number;
  replicas: number;
  readyReplicas: number;
  generation: number;
  observedGeneration: number;
  /** True only when the template and every pod route traffic (`traffic` is "enabled"). */
  enabled: boolean;
  traffic: TrafficState;
  images: string[];
  imagePullSecrets: string[];
  instances: Instance[];
  createTime?: Date;
  uid: string;
  /** Its HorizontalPodAutoscaler's policy, when it has one. */
  autoscaler?: AutoscalerPolicy;
}

/**
 * Whether Services route to the group, as its template and its pods say
 * together: "partial" when they disagree (an enable/disable in progress or
 * interrupted, which kubedriver completes by itself).
 */
export type TrafficState = "enabled" | "disabled" | "partial";

export interface Instance {
  name: string;
  phase: "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";
  ready: boolean;
  enabled: boolean;
  /** Running, ready, not being deleted, and enabled: it receives traffic. */
  serving: boolean;
  podIp: string;
  hostIp: string;
  nodeName: string;
  containers: ContainerState[];
  createTime?: Date;
  /** Load balancers DeregisterInstances took it out of, sorted. */
  deregisteredLoadBalancers: string[];
}

export interface ContainerState {
  name: string;
  image: string;
  ready: boolean;
  restartCount: number;
  state: "waiting" | "running" | "terminated" | "unknown";
  reason: string;
  message: string;
  startTime?: Date;
}
