import type { AccountRegistry } from "../core/accounts/registry.js";
import type { Permission } from "../core/auth/permissions.js";
import { InvalidArgumentError } from "../common/errors.js";
import { FieldErrors } from "../common/field-path.js";
import { cloneServerGroup } from "../core/server-groups/clone.js";
import { createServerGroup } from "../core/server-groups/create.js";
import { destroyServerGroup } from "../core/server-groups/destroy.js";
import { setTraffic } from "../core/server-groups/enable-disable.js";
import { keyOf, listServerGroups } from "../core/server-groups/list.js";
import { listFilterProblems, serverGroupNameProblem } from "../core/server-groups/naming.js";
import { getServerGroup } from "../core/server-groups/read.js";
import { resizeServerGroup } from "../core/server-groups/resize.js";
import type { ServerGroup as CoreServerGroup, ServerGroupRef, ServerGroupSpec } from "../core/server-groups/spec.js";
import type { TrafficChanges } from "../core/server-groups/traffic.js";
import { checkSpec, checkTargetSize } from "../core/server-groups/validate.js";
import {
  Consistency,
  type ServerGroupsServer,
  WaitCondition,
  type WatchServerGroupsRequest,
} from "../../gen/kubedriver/v1/server_groups.js";
import type { LiveViews } from "../core/server-groups/live-views.js";
import type { Consistency as CoreConsistency } from "../core/shared/consistency.js";
import { managedNamespace, scopesOf } from "../core/shared/scope.js";
import { waitForServerGroup, WaitTimedOutError, type WaitCondition as CoreWaitCondition } from "../core/server-groups/wait.js";
import { ServerGroup } from "../../gen/kubedriver/v1/server_group.js";
import { mergeBatches, watchServerGroups } from "../core/server-groups/watch.js";
import { map } from "rxjs";
import { serverStream, unary, type CallContext, type CallDeps } from "./calls.js";
import { maxMessageBytes, pageOf, readPageRequest, type PageLimits } from "./paging.js";
import { requestIdProblems, requiredNames } from "./request-fields.js";
import { batchOf, batchToProto, durationMs, pageToProto, serverGroupToProto, SpecReader } from "./server-group-convert.js";
import { encodedSize, splitWatchResponse } from "./server-groups-wire.js";
import { pack, WithDetails } from "./status.js";

export { ServerGroupsService } from "./server-groups-wire.js";

/**
 * ListServerGroups' pages: up to 1,000 groups, and under `maxMessageBytes`
 * however large the groups (a group can take 250 KiB: its spec is stored in
 * 256 KiB of annotations).
 */
const pageLimits: PageLimits<CoreServerGroup> = {
  defaultSize: 100,
  maxSize: 1_000,
  bytes: { max: maxMessageBytes, of: (g) => encodedSize(serverGroupToProto(g)) },
};

/** Before the deadline, so that the answer (and its details) is ours, not grpc-js's bare DEADLINE_EXCEEDED. */
const deadlineMarginMs = 50;
/** setTimeout's limit: a wait with no deadline and no timeout waits this long at most (24 days). */
const maxWaitMs = 2 ** 31 - 1;

const conditions: Partial<Record<WaitCondition, CoreWaitCondition>> = {
  [WaitCondition.WAIT_CONDITION_UP]: "up",
  [WaitCondition.WAIT_CONDITION_DOWN]: "down",
  [WaitCondition.WAIT_CONDITION_CAPACITY_MATCH]: "capacity",
  [WaitCondition.WAIT_CONDITION_DESTROYED]: "destroyed",
};

/**
 * The clone request wraps its repeated and map overrides in messages (so that
 * "unset" differs from "empty"): a problem the merged spec has at
 * `containers[0]` is at `containers.items[0]` on the wire.
 */
const cloneWrapped: [RegExp, string][] = [
  [/^containers(?=\[)/, "containers.items"],
  [/^volumes(?=\[)/, "volumes.items"],
  [/^load_balancers(?=\[|$)/, "load_balancers.items"],
  [/^labels(?=\[)/, "labels.entries"],
  [/^annotations(?=\[)/, "annotations.entries"],
  [/^node_selector(?=\[)/, "node_selector.entries"],
];

function cloneWirePath(field: string): string {
  return cloneWrapped.reduce((renamed, [from, to]) => renamed.replace(from, to), field);
}

export function consistencyOf(c: Consistency): CoreConsistency {
  return c === Consistency.CONSISTENCY_STRONG ? "strong" : "view";
}

function watchFilterProblems(req: WatchServerGroupsRequest): FieldErrors {
  const errors = listFilterProblems(req);
  if (req.namespaces.length && !req.account) errors.add("namespaces", "needs an account");
  if (req.name) {
    if (!req.account) errors.add("account", "is required with a name");
    if (req.namespaces.length !== 1) errors.add("namespaces", "must name exactly one namespace with a name");
    const problem = serverGroupNameProblem(req.name);
    if (problem) errors.add("name", problem);
  }
  return errors;
}

export function serverGroupsHandlers(
  registry: AccountRegistry,
  views: LiveViews,
  trafficChanges: TrafficChanges,
  deps: CallDeps,
): ServerGroupsServer {
  /** The account, resolved once per call; with authentication on, an unknown one is refused like a forbidden one (AccountRegistry.access). */
  const allow = (account: string, ctx: CallContext, permission: Permission) => registry.access(account, ctx.caller, permission);
  return {
    createServerGroup: unary("CreateServerGroup", deps, async (req, ctx) => {
      // One pass: the wire's problems, the names, the request id and the spec's, in one answer.
      const reader = new SpecReader();
      const errors = requestIdProblems(requiredNames(reader.errors, { account: req.account, namespace: req.namespace }), req.requestId);
      const spec = checkSpec(
        {
          application: req.application,
          stack: req.stack,
          detail: req.detail,
          targetSize: req.targetSize,
          containers: reader.containers(req.containers),
          loadBalancers: req.loadBalancers,
          volumes: reader.volumes(req.volumes),
          labels: req.labels,
          annotations: req.annotations,
          nodeSelector: req.nodeSelector,
        },
        errors,
      );
      InvalidArgumentError.throwIfAny(errors, "invalid server group");
      const created = await createServerGroup(
        allow(req.account, ctx, "WRITE"),
        { namespace: req.namespace, spec, requestId: req.requestId || undefined },
        { signal: ctx.signal },
      );
      return { serverGroup: serverGroupToProto(created) };
    }),

    cloneServerGroup: unary("CloneServerGroup", deps, async (req, ctx) => {
      // One pass: the wire's problems, the names, the request id and the merged spec's, in one answer.
      const errors = new FieldErrors(cloneWirePath);
      const reader = new SpecReader(errors);
      requiredNames(errors, { account: req.account, namespace: req.namespace });
      const sourceProblem = req.source ? serverGroupNameProblem(req.source) : "is required";
      if (sourceProblem) errors.add("source", sourceProblem);
      // Unset means the source's namespace; an empty one names none.
      if (req.targetNamespace === "") errors.add("target_namespace", "must not be empty when given; leave it unset to clone into the source's namespace");
      requestIdProblems(errors, req.requestId);
      const overrides: Partial<ServerGroupSpec> = {
        application: req.application,
        stack: req.stack,
        detail: req.detail,
        targetSize: req.targetSize,
        containers: req.containers && reader.containers(req.containers.items),
        loadBalancers: req.loadBalancers?.items,
        volumes: req.volumes && reader.volumes(req.volumes.items),
        labels: req.labels?.entries,
        annotations: req.annotations?.entries,
        nodeSelector: req.nodeSelector?.entries,
      };
      // Without a source to read, there is no merged spec to check: these problems are the answer.
      if (errors.violations.some((v) => ["account", "namespace", "source"].includes(v.field))) InvalidArgumentError.throwIfAny(errors, "invalid clone request");
      const created = await cloneServerGroup(
        allow(req.account, ctx, "WRITE"),
        {
          source: { account: req.account, namespace: req.namespace, name: req.source },
          targetNamespace: req.targetNamespace,
          overrides,
          requestId: req.requestId || undefined,
          problems: errors,
        },
        { signal: ctx.signal },
      );
      return { serverGroup: serverGroupToProto(created) };
    }),

    getServerGroup: unary("GetServerGroup", deps, async (req, ctx) => {
      const ref = validRef(req);
      const group = await getServerGroup(allow(ref.account, ctx, "READ"), ref, { views, consistency: consistencyOf(req.consistency) }, { signal: ctx.signal });
      return { serverGroup: serverGroupToProto(group) };
    }),

    listServerGroups: unary("ListServerGroups", deps, async (req, ctx) => {
      const errors = listFilterProblems(req);
      const page = readPageRequest(req, pageLimits, errors);
      InvalidArgumentError.throwIfAny(errors, "invalid list request");
      const scopes = scopesOf(req.account ? { named: [allow(req.account, ctx, "READ")] } : { readable: registry.usableBy(ctx.caller, "READ") }, req.namespaces);
      const found = await listServerGroups(scopes, req, { views, consistency: consistencyOf(req.consistency) }, { signal: ctx.signal });
      const served = pageOf(found, keyOf, page, pageLimits);
      return pageToProto(found, served.items, served.nextPageToken);
    }),

    resizeServerGroup: unary("ResizeServerGroup", deps, async (req, ctx) => {
      const errors = new FieldErrors();
      const ref = refFrom(errors, req);
      checkTargetSize(req.targetSize, errors);
      InvalidArgumentError.throwIfAny(requestIdProblems(errors, req.requestId), "invalid resize");
      const resized = await resizeServerGroup(
        allow(ref.account, ctx, "WRITE"),
        views,
        { ref, targetSize: req.targetSize, requestId: req.requestId || undefined },
        { signal: ctx.signal },
      );
      return { serverGroup: serverGroupToProto(resized) };
    }),

    enableServerGroup: unary("EnableServerGroup", deps, async (req, ctx) => traffic(req, ctx, true)),
    disableServerGroup: unary("DisableServerGroup", deps, async (req, ctx) => traffic(req, ctx, false)),

    watchServerGroups: serverStream(
      "WatchServerGroups",
      deps,
      (req, ctx) => {
        InvalidArgumentError.throwIfAny(watchFilterProblems(req), "invalid filter");
        // Resolved now, so that a bad request fails before the stream starts, and again after every reload.
        const scopes = () => scopesOf(req.account ? { named: [allow(req.account, ctx, "READ")] } : { readable: registry.usableBy(ctx.caller, "READ") }, req.namespaces);
        scopes();
        return watchServerGroups(views, { scopes, application: req.application, cluster: req.cluster, name: req.name }).pipe(map(batchToProto));
      },
      { conflate: (older, newer) => batchToProto(mergeBatches(batchOf(older), batchOf(newer))), split: splitWatchResponse },
    ),

    waitForServerGroup: unary("WaitForServerGroup", deps, async (req, ctx) => {
      const errors = new FieldErrors();
      const ref = refFrom(errors, req);
      const condition = conditions[req.condition];
      if (!condition) errors.add("condition", "is required: UP, DOWN, CAPACITY_MATCH or DESTROYED");
      if (req.upPercent < 0 || req.upPercent > 100) errors.add("up_percent", `must be between 1 and 100 (0: 100), got ${req.upPercent}`);
      const timeoutMs = req.timeout ? durationMs(req.timeout, "timeout", errors) : undefined;
      InvalidArgumentError.throwIfAny(errors, "invalid wait");
      // Resolved now (a bad account or namespace fails at once), and again as the wait follows reloads.
      const account = () => managedNamespace(allow(ref.account, ctx, "READ"), ref.namespace);
      account();
      // grpc-js ends the call itself at its deadline; answering just before lets the last state reach the caller.
      const untilDeadline = ctx.deadline - Date.now() - deadlineMarginMs;
      const group = await waitForServerGroup(account, views, ref, condition!, {
        upPercent: req.upPercent || 100,
        timeoutMs: Math.min(timeoutMs ?? Number.POSITIVE_INFINITY, untilDeadline, maxWaitMs),
        signal: ctx.signal,
      }).catch((err: unknown) => {
        // The group's last state travels with the timeout, so the caller sees how far it got.
        if (err instanceof WaitTimedOutError && err.lastState) {
          throw new WithDetails(err, [pack("kubedriver.v1.ServerGroup", ServerGroup.encode(serverGroupToProto(err.lastState)).finish())]);
        }
        throw err;
      });
      return { serverGroup: group && serverGroupToProto(group) };
    }),

    destroyServerGroup: unary("DestroyServerGroup", deps, async (req, ctx) => {
      const ref = validRef(req, req.requestId);
      await destroyServerGroup(allow(ref.account, ctx, "WRITE"), views, ref, req.requestId || undefined, { signal: ctx.signal });
      return { name: ref.name };
    }),
  };

  async function traffic(req: { account: string; namespace: string; name: string; requestId: string }, ctx: CallContext, enabled: boolean) {
    const ref = validRef(req, req.requestId);
    const result = await setTraffic(
      allow(ref.account, ctx, "WRITE"),
      { views, changes: trafficChanges },
      ref,
      enabled,
      req.requestId || undefined,
      { signal: ctx.signal },
    );
    return { serverGroup: serverGroupToProto(result.serverGroup), changedInstances: result.changedInstances };
  }
}

/**
 * The server group a request names, its problems collected with the
 * request's others. The name must be a server group's: it also becomes a
 * label selector value, which the API server rejects (400) when invalid.
 */
function refFrom(errors: FieldErrors, req: { account: string; namespace: string; name: string }): ServerGroupRef {
  requiredNames(errors, { account: req.account, namespace: req.namespace });
  const problem = req.name ? serverGroupNameProblem(req.name) : "is required";
  if (problem) errors.add("name", problem);
  return { account: req.account, namespace: req.namespace, name: req.name };
}

/** The server group a request names (and its request id, when it has one), every problem in one answer. */
function validRef(req: { account: string; namespace: string; name: string }, requestId = ""): ServerGroupRef {
  const errors = new FieldErrors();
  const ref = refFrom(errors, req);
  InvalidArgumentError.throwIfAny(requestIdProblems(errors, requestId), "invalid request");
  return ref;
}
