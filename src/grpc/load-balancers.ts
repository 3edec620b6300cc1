import type { AccountRegistry } from "../core/accounts/registry.js";
import { InvalidArgumentError } from "../common/errors.js";
import { FieldErrors, FieldPath } from "../common/field-path.js";
import { deleteLoadBalancer } from "../core/load-balancers/delete.js";
import type { ServiceViews } from "../core/load-balancers/live-view.js";
import { getLoadBalancer, keyOf, listLoadBalancers } from "../core/load-balancers/read.js";
import type { LiveViews } from "../core/server-groups/live-views.js";
import { scopesOf } from "../core/shared/scope.js";
import type * as core from "../core/load-balancers/spec.js";
import { upsertLoadBalancer } from "../core/load-balancers/upsert.js";
import { loadBalancerProblems, serviceNameCheck } from "../core/load-balancers/validate.js";
import { Protocol } from "../../gen/kubedriver/v1/server_group.js";
import {
  LoadBalancer,
  LoadBalancersService,
  type LoadBalancersServer,
  type ServicePort,
  ServiceType,
  SessionAffinity,
  type UpsertLoadBalancerRequest,
} from "../../gen/kubedriver/v1/load_balancers.js";
import { unary, type CallDeps } from "./calls.js";
import { maxMessageBytes, pageOf, readPageRequest } from "./paging.js";
import { requestIdProblems, requiredNames } from "./request-fields.js";
import { consistencyOf } from "./server-groups.js";

export { LoadBalancersService };

/** The watch-fed views reads are served from (see ReadFrom in core/load-balancers/read.ts). */
export interface LoadBalancerViews {
  services: ServiceViews;
  views: LiveViews;
}

/** ListLoadBalancers' page sizes; pages are sized in bytes too (see the handler). */
const pageSizes = { defaultSize: 100, maxSize: 500 };

export function loadBalancersHandlers(registry: AccountRegistry, views: LoadBalancerViews, deps: CallDeps): LoadBalancersServer {
  return {
    upsertLoadBalancer: unary("UpsertLoadBalancer", deps, async (req, ctx) => {
      const errors = requiredNames(new FieldErrors(), { account: req.account, namespace: req.namespace });
      const change = changeOf(req, errors);
      loadBalancerProblems(req.name, change, errors);
      requestIdProblems(errors, req.requestId);
      InvalidArgumentError.throwIfAny(errors, "invalid load balancer");
      const upserted = await upsertLoadBalancer(
        registry.access(req.account, ctx.caller, "WRITE"),
        { ref: refOf(req), change, adopt: req.adopt, requestId: req.requestId || undefined },
        { signal: ctx.signal },
      );
      return { loadBalancer: toProto(upserted.loadBalancer), created: upserted.created };
    }),

    getLoadBalancer: unary("GetLoadBalancer", deps, async (req, ctx) => {
      validateRef(req, new FieldErrors());
      const account = registry.access(req.account, ctx.caller, "READ");
      return { loadBalancer: toProto(await getLoadBalancer(account, refOf(req), { ...views, consistency: consistencyOf(req.consistency) }, { signal: ctx.signal })) };
    }),

    listLoadBalancers: unary("ListLoadBalancers", deps, async (req, ctx) => {
      const errors = new FieldErrors();
      const page = readPageRequest(req, pageSizes, errors);
      InvalidArgumentError.throwIfAny(errors, "invalid list request");
      const scopes = scopesOf(req.account ? { named: [registry.access(req.account, ctx.caller, "READ")] } : { readable: registry.usableBy(ctx.caller, "READ") }, req.namespaces);
      const found = await listLoadBalancers(scopes, req.managedOnly, { ...views, consistency: consistencyOf(req.consistency) }, { signal: ctx.signal });
      // A Service may carry 256 KiB of annotations (kubectl's last-applied configuration among them), so pages are
      // sized in bytes too; each load balancer is converted once, for sizing the page and for the answer.
      const converted = new Map<core.LoadBalancer, LoadBalancer>();
      const protoOf = (lb: core.LoadBalancer) => {
        let proto = converted.get(lb);
        if (!proto) converted.set(lb, (proto = toProto(lb)));
        return proto;
      };
      const served = pageOf(found, keyOf, page, { ...pageSizes, bytes: { max: maxMessageBytes, of: (lb) => LoadBalancer.encode(protoOf(lb)).finish().length } });
      return { loadBalancers: served.items.map(protoOf), nextPageToken: served.nextPageToken };
    }),

    deleteLoadBalancer: unary("DeleteLoadBalancer", deps, async (req, ctx) => {
      validateRef(req, requestIdProblems(new FieldErrors(), req.requestId));
      const orphaned = await deleteLoadBalancer(
        registry.access(req.account, ctx.caller, "WRITE"),
        { ref: refOf(req), force: req.force, adopt: req.adopt, requestId: req.requestId || undefined },
        { signal: ctx.signal },
      );
      return { name: req.name, orphanedServerGroups: orphaned };
    }),
  };
}

function refOf(req: { account: string; namespace: string; name: string }): core.LoadBalancerRef {
  return { account: req.account, namespace: req.namespace, name: req.name };
}

function validateRef(req: { account: string; namespace: string; name: string }, errors: FieldErrors): void {
  requiredNames(errors, { account: req.account, namespace: req.namespace });
  serviceNameCheck(req.name, FieldPath.root("name"), errors);
  InvalidArgumentError.throwIfAny(errors, "invalid request");
}

const protocols: Record<number, core.ServicePortSpec["protocol"]> = {
  [Protocol.PROTOCOL_UNSPECIFIED]: "TCP",
  [Protocol.PROTOCOL_TCP]: "TCP",
  [Protocol.PROTOCOL_UDP]: "UDP",
  [Protocol.PROTOCOL_SCTP]: "SCTP",
};
const types: Record<number, core.ServiceType | undefined> = {
  [ServiceType.SERVICE_TYPE_UNSPECIFIED]: undefined,
  [ServiceType.SERVICE_TYPE_CLUSTER_IP]: "ClusterIP",
  [ServiceType.SERVICE_TYPE_NODE_PORT]: "NodePort",
  [ServiceType.SERVICE_TYPE_LOAD_BALANCER]: "LoadBalancer",
};
const affinities: Record<number, core.SessionAffinity | undefined> = {
  [SessionAffinity.SESSION_AFFINITY_UNSPECIFIED]: undefined,
  [SessionAffinity.SESSION_AFFINITY_NONE]: "None",
  [SessionAffinity.SESSION_AFFINITY_CLIENT_IP]: "ClientIP",
};

/** Wire → core, collecting what only the wire can get wrong (unknown enum numbers). */
function changeOf(req: UpsertLoadBalancerRequest, errors: FieldErrors): core.LoadBalancerChange {
  if (!(req.type in types)) errors.add(FieldPath.root("type"), `unknown value ${req.type}`);
  if (!(req.sessionAffinity in affinities)) errors.add(FieldPath.root("session_affinity"), `unknown value ${req.sessionAffinity}`);
  return {
    ports: req.ports.length ? req.ports.map((p, i) => portOf(p, FieldPath.root("ports").index(i), errors)) : undefined,
    type: types[req.type],
    sessionAffinity: affinities[req.sessionAffinity],
    externalIps: req.externalIps?.items,
    clusterIp: req.clusterIp,
    loadBalancerIp: req.loadBalancerIp,
    labels: req.labels?.entries,
    annotations: req.annotations?.entries,
  };
}

function portOf(p: ServicePort, at: FieldPath, errors: FieldErrors): core.ServicePortSpec {
  const protocol = protocols[p.protocol];
  if (!protocol) errors.add(at.child("protocol"), `unknown value ${p.protocol}`);
  return {
    name: p.name,
    protocol: protocol ?? "TCP",
    port: p.port,
    targetPort: p.targetPort || undefined,
    targetPortName: p.targetPortName || undefined,
    nodePort: p.nodePort || undefined,
  };
}

const protocolsOut = { TCP: Protocol.PROTOCOL_TCP, UDP: Protocol.PROTOCOL_UDP, SCTP: Protocol.PROTOCOL_SCTP } as const;
const typesOut = { ClusterIP: ServiceType.SERVICE_TYPE_CLUSTER_IP, NodePort: ServiceType.SERVICE_TYPE_NODE_PORT, LoadBalancer: ServiceType.SERVICE_TYPE_LOAD_BALANCER } as const;
const affinitiesOut = { None: SessionAffinity.SESSION_AFFINITY_NONE, ClientIP: SessionAffinity.SESSION_AFFINITY_CLIENT_IP } as const;

function toProto(lb: core.LoadBalancer): LoadBalancer {
  return {
    account: lb.account,
    namespace: lb.namespace,
    name: lb.name,
    ports: lb.ports.map((p) => ({
      name: p.name,
      protocol: protocolsOut[p.protocol] ?? Protocol.PROTOCOL_UNSPECIFIED,
      port: p.port,
      targetPort: p.targetPort ?? 0,
      targetPortName: p.targetPortName ?? "",
      nodePort: p.nodePort ?? 0,
    })),
    type: typesOut[lb.type] ?? ServiceType.SERVICE_TYPE_UNSPECIFIED,
    sessionAffinity: affinitiesOut[lb.sessionAffinity] ?? SessionAffinity.SESSION_AFFINITY_UNSPECIFIED,
    externalIps: lb.externalIps,
    clusterIp: lb.clusterIp,
    loadBalancerIp: lb.loadBalancerIp,
    labels: lb.labels,
    annotations: lb.annotations,
    ingress: lb.ingress,
    serverGroups: lb.serverGroups,
    instanceCount: lb.instanceCount,
    managed: lb.managed,
    selector: lb.selector,
  };
}
