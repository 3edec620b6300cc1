import { FieldErrors, FieldPath } from "../common/field-path.js";
import { keyOf } from "../core/server-groups/list.js";
import type * as core from "../core/server-groups/spec.js";
import type { GroupChange } from "../core/server-groups/live-view.js";
import type { GroupBatch } from "../core/server-groups/watch.js";
import { ChangeType, type ListServerGroupsResponse, type WatchServerGroupsResponse } from "../../gen/kubedriver/v1/server_groups.js";
import type { Duration } from "../../gen/google/protobuf/duration.js";
import {
  type Container,
  ContainerState,
  type Instance,
  PodPhase,
  type Probe,
  Protocol,
  Scheme,
  type ServerGroup,
  TrafficState,
  type Volume,
} from "../../gen/kubedriver/v1/server_group.js";

/** Proto → core for the server-group spec, collecting what only the wire can get wrong (enums, durations). */
export class SpecReader {
  constructor(readonly errors = new FieldErrors()) {}

  containers(list: Container[], at = FieldPath.root("containers")): core.ContainerSpec[] {
    return list.map((c, i) => this.container(c, at.index(i)));
  }

  volumes(list: Volume[]): core.VolumeSpec[] {
    return list.map((v) => ({
      name: v.name,
      emptyDir: v.emptyDir && { memory: v.emptyDir.memory, sizeLimit: v.emptyDir.sizeLimit || undefined },
      configMap: v.configMap && {
        name: v.configMap.name,
        items: v.configMap.items,
        defaultMode: v.configMap.defaultMode || undefined,
        optional: v.configMap.optional,
      },
      secret: v.secret && {
        secretName: v.secret.secretName,
        items: v.secret.items,
        defaultMode: v.secret.defaultMode || undefined,
        optional: v.secret.optional,
      },
      persistentVolumeClaim: v.persistentVolumeClaim && { ...v.persistentVolumeClaim },
    }));
  }

  private container(c: Container, at: FieldPath): core.ContainerSpec {
    return {
      name: c.name,
      image: c.image,
      command: c.command,
      args: c.args,
      env: c.env.map((e) => ({ name: e.name, value: e.value, secretKey: e.secretKey, configMapKey: e.configMapKey })),
      ports: c.ports.map((p, j) => ({
        name: p.name || undefined,
        containerPort: p.containerPort,
        protocol: this.protocol(p.protocol, at.child("ports").index(j).child("protocol")),
      })),
      resources: {
        requests: { cpu: c.resources?.requests?.cpu || undefined, memory: c.resources?.requests?.memory || undefined },
        limits: { cpu: c.resources?.limits?.cpu || undefined, memory: c.resources?.limits?.memory || undefined },
      },
      livenessProbe: c.livenessProbe && this.probe(c.livenessProbe, at.child("liveness_probe")),
      readinessProbe: c.readinessProbe && this.probe(c.readinessProbe, at.child("readiness_probe")),
      volumeMounts: c.volumeMounts.map((m) => ({ name: m.name, mountPath: m.mountPath, readOnly: m.readOnly, subPath: m.subPath || undefined })),
    };
  }

  private probe(p: Probe, at: FieldPath): core.ProbeSpec {
    return {
      exec: p.exec && { command: p.exec.command },
      httpGet: p.httpGet && {
        path: p.httpGet.path,
        port: p.httpGet.port || undefined,
        portName: p.httpGet.portName || undefined,
        host: p.httpGet.host || undefined,
        scheme: this.scheme(p.httpGet.scheme, at.child("http_get").child("scheme")),
        headers: p.httpGet.headers,
      },
      tcpSocket: p.tcpSocket && { port: p.tcpSocket.port || undefined, portName: p.tcpSocket.portName || undefined, host: p.tcpSocket.host || undefined },
      initialDelaySeconds: this.seconds(p.initialDelay, at.child("initial_delay")),
      timeoutSeconds: this.seconds(p.timeout, at.child("timeout")),
      periodSeconds: this.seconds(p.period, at.child("period")),
      successThreshold: p.successThreshold,
      failureThreshold: p.failureThreshold,
    };
  }

  private seconds(d: Duration | undefined, at: FieldPath): number {
    if (!d) return 0;
    if (d.nanos !== 0 || d.seconds < 0) this.errors.add(at, "must be a whole, non-negative number of seconds");
    return d.seconds;
  }

  private protocol(p: Protocol, at: FieldPath): core.PortSpec["protocol"] {
    const known: Partial<Record<Protocol, core.PortSpec["protocol"]>> = {
      [Protocol.PROTOCOL_UNSPECIFIED]: "TCP",
      [Protocol.PROTOCOL_TCP]: "TCP",
      [Protocol.PROTOCOL_UDP]: "UDP",
      [Protocol.PROTOCOL_SCTP]: "SCTP",
    };
    const value = known[p];
    if (!value) this.errors.add(at, `unknown protocol ${p}`);
    return value ?? "TCP";
  }

  private scheme(s: Scheme, at: FieldPath): "HTTP" | "HTTPS" {
    if (s === Scheme.SCHEME_HTTPS) return "HTTPS";
    if (s !== Scheme.SCHEME_UNSPECIFIED && s !== Scheme.SCHEME_HTTP) this.errors.add(at, `unknown scheme ${s}`);
    return "HTTP";
  }
}

/** Views are shared by every reader of a namespace, so each is converted once, whatever the number of subscribers. */
const converted = new WeakMap<core.ServerGroup, ServerGroup>();

/** Core → proto. */
export function serverGroupToProto(g: core.ServerGroup): ServerGroup {
  let proto = converted.get(g);
  if (!proto) converted.set(g, (proto = toProto(g)));
  return proto;
}

const changeTypes: Record<GroupChange["type"], ChangeType> = {
  ADDED: ChangeType.CHANGE_TYPE_ADDED,
  MODIFIED: ChangeType.CHANGE_TYPE_MODIFIED,
  DELETED: ChangeType.CHANGE_TYPE_DELETED,
};

/** The core batch each message was made from, so that a slow reader's pending messages merge as core batches. */
const batches = new WeakMap<WatchServerGroupsResponse, GroupBatch>();

const messages = new WeakMap<GroupBatch, WatchServerGroupsResponse>();

/** The message of a batch; a batch shared by every subscriber gets one message, so it is encoded once. */
export function batchToProto(batch: GroupBatch): WatchServerGroupsResponse {
  let message = messages.get(batch);
  if (message) return message;
  message = {
    snapshot: batch.snapshot,
    changes: batch.changes.map((c) => ({ type: changeTypes[c.type], serverGroup: serverGroupToProto(c.group) })),
    continued: false,
  };
  batches.set(message, batch);
  messages.set(batch, message);
  return message;
}

export function batchOf(message: WatchServerGroupsResponse): GroupBatch {
  return batches.get(message)!;
}

/** Pages answered from one list (a namespace view's, until its next change), by first group, length and token. */
const pages = new WeakMap<readonly core.ServerGroup[], Map<string, ListServerGroupsResponse>>();
/** Enough for the pages callers read of one view between changes; a caller walking many page sizes only empties it. */
const maxPagesPerList = 16;

/**
 * A ListServerGroups answer for `items`, a page of `listed`: the same object
 * for the same page of the same list, so that callers reading an unchanged
 * namespace share one encoding of it. A filtered or merged list is new at
 * each call, and so is its answer.
 */
export function pageToProto(listed: readonly core.ServerGroup[], items: readonly core.ServerGroup[], nextPageToken: string): ListServerGroupsResponse {
  let answered = pages.get(listed);
  if (!answered) pages.set(listed, (answered = new Map()));
  const key = `${items[0] ? keyOf(items[0]) : ""}|${items.length}|${nextPageToken}`;
  let answer = answered.get(key);
  if (!answer) {
    if (answered.size >= maxPagesPerList) answered.clear();
    answered.set(key, (answer = { serverGroups: items.map(serverGroupToProto), nextPageToken }));
  }
  return answer;
}

/** A whole number of milliseconds from a non-negative Duration; a violation at `field` otherwise. */
export function durationMs(d: Duration, field: string, errors: FieldErrors): number {
  if (d.seconds < 0 || d.nanos < 0) errors.add(field, "must not be negative");
  return d.seconds * 1000 + Math.floor(d.nanos / 1e6);
}

function toProto(g: core.ServerGroup): ServerGroup {
  return {
    name: g.name,
    account: g.account,
    namespace: g.namespace,
    application: g.spec.application,
    stack: g.spec.stack,
    detail: g.spec.detail,
    cluster: g.cluster,
    version: g.version,
    targetSize: g.spec.targetSize,
    replicas: g.replicas,
    readyReplicas: g.readyReplicas,
    generation: g.generation,
    observedGeneration: g.observedGeneration,
    enabled: g.enabled,
    loadBalancers: g.spec.loadBalancers,
    images: g.images,
    containers: g.spec.containers.map(containerToProto),
    volumes: g.spec.volumes.map(volumeToProto),
    labels: g.spec.labels,
    annotations: g.spec.annotations,
    nodeSelector: g.spec.nodeSelector,
    imagePullSecrets: g.imagePullSecrets,
    instances: g.instances.map(instanceToProto),
    createTime: g.createTime,
    uid: g.uid,
    traffic: trafficStates[g.traffic],
    autoscaler: g.autoscaler && { ...g.autoscaler },
  };
}

const trafficStates: Record<core.TrafficState, TrafficState> = {
  enabled: TrafficState.TRAFFIC_STATE_ENABLED,
  disabled: TrafficState.TRAFFIC_STATE_DISABLED,
  partial: TrafficState.TRAFFIC_STATE_PARTIAL,
};

const protocols = { TCP: Protocol.PROTOCOL_TCP, UDP: Protocol.PROTOCOL_UDP, SCTP: Protocol.PROTOCOL_SCTP } as const;
const duration = (seconds: number): Duration | undefined => (seconds ? { seconds, nanos: 0 } : undefined);

function containerToProto(c: core.ContainerSpec): Container {
  const probe = (p: core.ProbeSpec | undefined): Probe | undefined =>
    p && {
      exec: p.exec,
      httpGet: p.httpGet && {
        path: p.httpGet.path,
        port: p.httpGet.port ?? 0,
        portName: p.httpGet.portName ?? "",
        host: p.httpGet.host ?? "",
        scheme: p.httpGet.scheme === "HTTPS" ? Scheme.SCHEME_HTTPS : Scheme.SCHEME_HTTP,
        headers: p.httpGet.headers,
      },
      tcpSocket: p.tcpSocket && { port: p.tcpSocket.port ?? 0, portName: p.tcpSocket.portName ?? "", host: p.tcpSocket.host ?? "" },
      initialDelay: duration(p.initialDelaySeconds),
      timeout: duration(p.timeoutSeconds),
      period: duration(p.periodSeconds),
      successThreshold: p.successThreshold,
      failureThreshold: p.failureThreshold,
    };
  return {
    name: c.name,
    image: c.image,
    command: c.command,
    args: c.args,
    env: c.env.map((e) => ({ name: e.name, value: e.value, secretKey: e.secretKey, configMapKey: e.configMapKey })),
    ports: c.ports.map((p) => ({ name: p.name ?? "", containerPort: p.containerPort, protocol: protocols[p.protocol] })),
    resources: {
      requests: { cpu: c.resources.requests.cpu ?? "", memory: c.resources.requests.memory ?? "" },
      limits: { cpu: c.resources.limits.cpu ?? "", memory: c.resources.limits.memory ?? "" },
    },
    livenessProbe: probe(c.livenessProbe),
    readinessProbe: probe(c.readinessProbe),
    volumeMounts: c.volumeMounts.map((m) => ({ name: m.name, mountPath: m.mountPath, readOnly: m.readOnly, subPath: m.subPath ?? "" })),
  };
}

function volumeToProto(v: core.VolumeSpec): Volume {
  return {
    name: v.name,
    emptyDir: v.emptyDir && { memory: v.emptyDir.memory, sizeLimit: v.emptyDir.sizeLimit ?? "" },
    configMap: v.configMap && { ...v.configMap, defaultMode: v.configMap.defaultMode ?? 0 },
    secret: v.secret && { ...v.secret, defaultMode: v.secret.defaultMode ?? 0 },
    persistentVolumeClaim: v.persistentVolumeClaim,
  };
}

const phases: Record<core.Instance["phase"], PodPhase> = {
  Pending: PodPhase.POD_PHASE_PENDING,
  Running: PodPhase.POD_PHASE_RUNNING,
  Succeeded: PodPhase.POD_PHASE_SUCCEEDED,
  Failed: PodPhase.POD_PHASE_FAILED,
  Unknown: PodPhase.POD_PHASE_UNSPECIFIED,
};

const states: Record<core.ContainerState["state"], ContainerState> = {
  waiting: ContainerState.CONTAINER_STATE_WAITING,
  running: ContainerState.CONTAINER_STATE_RUNNING,
  terminated: ContainerState.CONTAINER_STATE_TERMINATED,
  unknown: ContainerState.CONTAINER_STATE_UNSPECIFIED,
};

function instanceToProto(i: core.Instance): Instance {
  return {
    name: i.name,
    phase: phases[i.phase] ?? PodPhase.POD_PHASE_UNSPECIFIED,
    ready: i.ready,
    enabled: i.enabled,
    serving: i.serving,
    podIp: i.podIp,
    hostIp: i.hostIp,
    nodeName: i.nodeName,
    containers: i.containers.map((c) => ({
      name: c.name,
      image: c.image,
      ready: c.ready,
      restartCount: c.restartCount,
      state: states[c.state],
      reason: c.reason,
      message: c.message,
      startTime: c.startTime,
    })),
    createTime: i.createTime,
    deregisteredLoadBalancers: i.deregisteredLoadBalancers,
  };
}
