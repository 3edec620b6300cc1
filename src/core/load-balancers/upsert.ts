import type { V1Service, V1ServicePort } from "@kubernetes/client-node";
import { ConflictError, InvalidArgumentError, isAlreadyExists, isConflict } from "../../common/errors.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { list } from "../../kube/kinds.js";
import { podKind } from "../../kube/pods.js";
import { createService, replaceService } from "../../kube/services.js";
import type { Account } from "../accounts/account.js";
import { exactlyOnce } from "../shared/exactly-once.js";
import { markOurs, selectors, withoutMark } from "../shared/ownership.js";
import { about, whereIs } from "../shared/refs.js";
import { managedNamespace } from "../shared/scope.js";
import { loadBalancerSelector } from "../shared/traffic-labels.js";
import { findService, requireManaged } from "./ownership.js";
import { readLoadBalancer } from "./read.js";
import type { LoadBalancer, LoadBalancerChange, LoadBalancerRef, ServicePortSpec } from "./spec.js";
import { loadBalancerView } from "./view.js";

export interface UpsertRequest {
  ref: LoadBalancerRef;
  /** Validated (see validate.ts). */
  change: LoadBalancerChange;
  adopt: boolean;
  requestId?: string;
}

export interface Upserted {
  loadBalancer: LoadBalancer;
  created: boolean;
}

/** Each lost race costs one more read and write; past this, ABORTED. */
const maxAttempts = 10;

/**
 * Creates the Service, or applies the change to the version just read and
 * replaces it under that resourceVersion: a concurrent upsert makes the
 * replace fail with a conflict, and the change is applied again to the newer
 * version, so neither upsert's change is lost. With a request id, exactly
 * once (see `once`).
 */
export async function upsertLoadBalancer(account: Account, req: UpsertRequest, opts?: KubeCallOptions): Promise<Upserted> {
  managedNamespace(account, req.ref.namespace);
  return exactlyOnce(
    {
      account,
      namespace: req.ref.namespace,
      requestId: req.requestId,
      operation: "UpsertLoadBalancer",
      request: { name: req.ref.name, change: req.change, adopt: req.adopt },
      run: ({ opts: held }) => upsert(account, req, held),
      encode: (r) => JSON.stringify({ created: r.created }),
      replay: async (encoded) => ({
        loadBalancer: await readLoadBalancer(account, req.ref, opts),
        created: (JSON.parse(encoded) as { created?: boolean }).created === true,
      }),
    },
    opts,
  );
}

async function upsert(account: Account, req: UpsertRequest, opts?: KubeCallOptions): Promise<Upserted> {
  const { ref, change } = req;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const existing = await findService(account, ref, opts);
    let stored: V1Service;
    let created = false;
    if (!existing) {
      if (!change.ports?.length) {
        throw InvalidArgumentError.of("ports", "a new load balancer needs at least one port", about("load balancer", ref));
      }
      const made = await createService(account.kube, ref.namespace, newService(ref.name, change), opts).catch((err: unknown) => {
        if (isAlreadyExists(err)) return undefined;
        throw err;
      });
      if (!made) continue;
      stored = made;
      created = true;
    } else {
      requireManaged(existing, ref, req.adopt);
      immutableCheck(existing, ref, change);
      const next = changed(existing, change);
      if (JSON.stringify(next) === JSON.stringify(existing)) {
        stored = existing;
      } else {
        const replaced = await replaceService(account.kube, ref.namespace, next, opts).catch((err: unknown) => {
          if (isConflict(err)) return undefined;
          throw err;
        });
        if (!replaced) continue;
        stored = replaced;
      }
    }
    const pods = await list(account.kube, podKind, ref.namespace, selectors.managed(), opts);
    return { loadBalancer: loadBalancerView(ref.account, stored, pods), created };
  }
  throw new ConflictError(`load balancer "${ref.name}" ${whereIs(ref)} kept changing concurrently; retry`, {
    reason: "CONCURRENT_CHANGES",
    ...about("load balancer", ref),
  });
}

function newService(name: string, change: LoadBalancerChange): V1Service {
  return {
    metadata: { name, labels: markOurs(change.labels), annotations: change.annotations },
    spec: {
      selector: loadBalancerSelector(name),
      ports: change.ports!.map((p) => portOf(p)),
      type: change.type ?? "ClusterIP",
      sessionAffinity: change.sessionAffinity ?? "None",
      externalIPs: change.externalIps?.length ? change.externalIps : undefined,
      clusterIP: change.clusterIp,
      loadBalancerIP: change.loadBalancerIp || undefined,
    },
  };
}

/** The existing Service with the change applied; what the change leaves unset is kept. */
function changed(existing: V1Service, change: LoadBalancerChange): V1Service {
  const next = structuredClone(existing);
  const meta = next.metadata!;
  const spec = (next.spec ??= {});
  // Adopted or ours: either way kubedriver's selector and label.
  spec.selector = loadBalancerSelector(meta.name!);
  meta.labels = markOurs(change.labels ?? withoutMark(meta.labels));
  if (change.annotations) meta.annotations = change.annotations;
  if (change.type) spec.type = change.type;
  if (change.sessionAffinity) spec.sessionAffinity = change.sessionAffinity;
  if (change.externalIps) spec.externalIPs = change.externalIps.length ? change.externalIps : undefined;
  if (change.loadBalancerIp !== undefined) spec.loadBalancerIP = change.loadBalancerIp || undefined;
  if (change.ports) spec.ports = change.ports.map((p) => portOf(p, existing.spec?.ports));
  if (spec.type === "ClusterIP") for (const p of spec.ports ?? []) delete p.nodePort;
  return next;
}

/**
 * A port as the Service stores it. A port asked for without a node port
 * keeps the one the cluster allocated to the same port and protocol, as the
 * API server does, so that re-sending the same ports changes nothing.
 */
function portOf(p: ServicePortSpec, before: V1ServicePort[] = []): V1ServicePort {
  const kept = before.find((b) => b.port === p.port && (b.protocol ?? "TCP") === p.protocol)?.nodePort;
  return {
    name: p.name || undefined,
    protocol: p.protocol,
    port: p.port,
    targetPort: p.targetPortName ?? p.targetPort ?? p.port,
    nodePort: p.nodePort ?? kept,
  };
}

function immutableCheck(existing: V1Service, ref: LoadBalancerRef, change: LoadBalancerChange): void {
  const current = existing.spec?.clusterIP ?? "";
  if (change.clusterIp !== undefined && current !== "" && change.clusterIp !== current) {
    throw InvalidArgumentError.of("cluster_ip", `cannot change once set (the Service has ${current}); delete the load balancer to choose another`, about("load balancer", ref));
  }
}
