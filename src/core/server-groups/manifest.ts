import type { V1Container, V1Probe, V1ReplicationController, V1Volume } from "@kubernetes/client-node";
import { apiVersionOf } from "../../kube/kinds.js";
import { replicationControllerKind } from "../../kube/replication-controllers.js";
import { annotationKeys, labelKeys, markOurs, recommendedLabelKeys } from "../shared/ownership.js";
import { trafficLabels } from "../shared/traffic-labels.js";
import { rcSelector } from "./ownership.js";
import { clusterName, serverGroupName } from "./naming.js";
import type { ContainerSpec, ProbeSpec, ServerGroupSpec, VolumeSpec } from "./spec.js";

/**
 * The ReplicationController for version `version` of a spec. The selector is
 * the server group's own labels only: load-balancer labels change on
 * enable/disable and must never decide which pods the RC owns.
 */
export function replicationControllerFor(
  spec: ServerGroupSpec,
  version: number,
  pullSecrets: string[],
  requestId?: string,
): V1ReplicationController {
  const cluster = clusterName(spec);
  const name = serverGroupName(cluster, version);
  const versionLabel = `v${String(version).padStart(3, "0")}`;
  // Valid label values all: the name is at most 63 characters (naming.ts), the application a part of it.
  const identity = markOurs({
    [labelKeys.application]: spec.application,
    [labelKeys.cluster]: cluster,
    [labelKeys.serverGroup]: name,
    [labelKeys.version]: versionLabel,
    [recommendedLabelKeys.name]: spec.application,
    [recommendedLabelKeys.instance]: name,
    [recommendedLabelKeys.version]: versionLabel,
  });
  const loadBalancers = trafficLabels(spec.loadBalancers);
  return {
    apiVersion: apiVersionOf(replicationControllerKind),
    kind: "ReplicationController",
    metadata: {
      name,
      labels: identity,
      annotations: {
        ...spec.annotations,
        [annotationKeys.spec]: JSON.stringify(spec),
        ...(requestId ? { [annotationKeys.createRequestId]: requestId } : {}),
      },
    },
    spec: {
      replicas: spec.targetSize,
      selector: rcSelector(name),
      template: {
        metadata: { labels: { ...spec.labels, ...identity, ...loadBalancers } },
        spec: {
          containers: spec.containers.map(containerFor),
          volumes: spec.volumes.length ? spec.volumes.map(volumeFor) : undefined,
          nodeSelector: Object.keys(spec.nodeSelector).length ? spec.nodeSelector : undefined,
          imagePullSecrets: pullSecrets.map((name) => ({ name })),
        },
      },
    },
  };
}

function containerFor(c: ContainerSpec): V1Container {
  const resources = {
    requests: quantities(c.resources.requests),
    limits: quantities(c.resources.limits),
  };
  return {
    name: c.name,
    image: c.image,
    command: c.command.length ? c.command : undefined,
    args: c.args.length ? c.args : undefined,
    env: c.env.length
      ? c.env.map((e) => ({
          name: e.name,
          value: e.value,
          valueFrom: e.secretKey
            ? { secretKeyRef: { ...e.secretKey } }
            : e.configMapKey
              ? { configMapKeyRef: { ...e.configMapKey } }
              : undefined,
        }))
      : undefined,
    ports: c.ports.length ? c.ports.map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: p.protocol })) : undefined,
    resources: resources.requests || resources.limits ? resources : undefined,
    livenessProbe: c.livenessProbe && probeFor(c.livenessProbe),
    readinessProbe: c.readinessProbe && probeFor(c.readinessProbe),
    volumeMounts: c.volumeMounts.length ? c.volumeMounts.map((m) => ({ ...m })) : undefined,
  };
}

function quantities(q: { cpu?: string; memory?: string }): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (q.cpu) out.cpu = q.cpu;
  if (q.memory) out.memory = q.memory;
  return Object.keys(out).length ? out : undefined;
}

function probeFor(p: ProbeSpec): V1Probe {
  const port = (n?: number, name?: string) => (name ? name : n!) as unknown as number;
  return {
    exec: p.exec && { command: p.exec.command },
    httpGet: p.httpGet && {
      path: p.httpGet.path || "/",
      port: port(p.httpGet.port, p.httpGet.portName),
      host: p.httpGet.host,
      scheme: p.httpGet.scheme,
      httpHeaders: p.httpGet.headers.length ? p.httpGet.headers : undefined,
    },
    tcpSocket: p.tcpSocket && { port: port(p.tcpSocket.port, p.tcpSocket.portName), host: p.tcpSocket.host },
    initialDelaySeconds: p.initialDelaySeconds || undefined,
    timeoutSeconds: p.timeoutSeconds || undefined,
    periodSeconds: p.periodSeconds || undefined,
    successThreshold: p.successThreshold || undefined,
    failureThreshold: p.failureThreshold || undefined,
  };
}

function volumeFor(v: VolumeSpec): V1Volume {
  return {
    name: v.name,
    emptyDir: v.emptyDir && { medium: v.emptyDir.memory ? "Memory" : undefined, sizeLimit: v.emptyDir.sizeLimit },
    configMap: v.configMap && {
      name: v.configMap.name,
      items: v.configMap.items.length ? v.configMap.items : undefined,
      defaultMode: v.configMap.defaultMode,
      optional: v.configMap.optional || undefined,
    },
    secret: v.secret && {
      secretName: v.secret.secretName,
      items: v.secret.items.length ? v.secret.items : undefined,
      defaultMode: v.secret.defaultMode,
      optional: v.secret.optional || undefined,
    },
    persistentVolumeClaim: v.persistentVolumeClaim && { ...v.persistentVolumeClaim },
  };
}
