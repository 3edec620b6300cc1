import { map } from "rxjs";
import type { AccountRegistry } from "../core/accounts/registry.js";
import { InvalidArgumentError } from "../common/errors.js";
import { FieldErrors, FieldPath } from "../common/field-path.js";
import { utf8Tail } from "../common/utf8.js";
import { followInstanceLogs, getInstanceLogs, maxLogBytes } from "../core/instances/logs.js";
import { setRegistration } from "../core/instances/registration.js";
import type * as core from "../core/instances/spec.js";
import { terminateInstances } from "../core/instances/terminate.js";
import type { Duration } from "../../gen/google/protobuf/duration.js";
import {
  type FollowInstanceLogsResponse,
  InstanceOutcome,
  type InstanceResult,
  InstancesService,
  type InstancesServer,
} from "../../gen/kubedriver/v1/instances.js";
import { serverStream, unary, type CallDeps } from "./calls.js";
import { requestIdProblems, requiredNames } from "./request-fields.js";

export { InstancesService };

const maxNames = 100;
const maxTailLines = 100_000;
/** One followed message at most: a reader that falls behind gets the newest text. */
const maxChunkBytes = 64 * 1024;

export function instancesHandlers(registry: AccountRegistry, deps: CallDeps): InstancesServer {
  return {
    terminateInstances: unary("TerminateInstances", deps, async (req, ctx) => {
      InvalidArgumentError.throwIfAny(namesProblems(req, new FieldErrors()), "invalid instances request");
      const account = registry.access(req.account, ctx.caller, "WRITE");
      const results = await terminateInstances(account, { namespace: req.namespace, names: req.names }, req.requestId || undefined, { signal: ctx.signal });
      return { results: results.map(resultToProto) };
    }),
    deregisterInstances: unary("DeregisterInstances", deps, async (req, ctx) => ({ results: await registration(req, false, ctx) })),
    registerInstances: unary("RegisterInstances", deps, async (req, ctx) => ({ results: await registration(req, true, ctx) })),

    getInstanceLogs: unary("GetInstanceLogs", deps, async (req, ctx) => {
      const errors = logProblems(req, new FieldErrors());
      if (req.limitBytes < 0 || req.limitBytes > maxLogBytes) errors.add(FieldPath.root("limit_bytes"), `must be between 0 and ${maxLogBytes}, got ${req.limitBytes}`);
      InvalidArgumentError.throwIfAny(errors, "invalid log request");
      const account = registry.access(req.account, ctx.caller, "READ");
      return getInstanceLogs(account, { ...logRequest(req), limitBytes: req.limitBytes || undefined }, { signal: ctx.signal });
    }),

    followInstanceLogs: serverStream(
      "FollowInstanceLogs",
      deps,
      async (req, ctx) => {
        InvalidArgumentError.throwIfAny(logProblems(req, new FieldErrors()), "invalid log request");
        const account = registry.access(req.account, ctx.caller, "READ");
        const chunks = await followInstanceLogs(account, logRequest(req), { signal: ctx.signal });
        return chunks.pipe(map((text): FollowInstanceLogsResponse => bounded({ content: text, droppedBytes: 0 })));
      },
      { conflate: (older, newer) => bounded({ content: older.content + newer.content, droppedBytes: older.droppedBytes + newer.droppedBytes }) },
    ),
  };

  async function registration(
    req: { account: string; namespace: string; names: string[]; loadBalancers: string[]; requestId: string },
    registered: boolean,
    ctx: { caller?: Parameters<AccountRegistry["access"]>[1]; signal: AbortSignal },
  ): Promise<InstanceResult[]> {
    const errors = new FieldErrors();
    req.loadBalancers.forEach((lb, i) => {
      if (lb === "") errors.add(FieldPath.root("load_balancers").index(i), "must not be empty");
    });
    InvalidArgumentError.throwIfAny(namesProblems(req, errors), "invalid instances request");
    const account = registry.access(req.account, ctx.caller, "WRITE");
    const results = await setRegistration(
      account,
      { namespace: req.namespace, names: req.names, loadBalancers: req.loadBalancers, registered, requestId: req.requestId || undefined },
      { signal: ctx.signal },
    );
    return results.map(resultToProto);
  }
}

function namesProblems(req: { account: string; namespace: string; names: string[]; requestId: string }, errors: FieldErrors): FieldErrors {
  requiredNames(errors, { account: req.account, namespace: req.namespace });
  requestIdProblems(errors, req.requestId);
  if (req.names.length === 0) errors.add(FieldPath.root("names"), "is required: name at least one instance");
  if (req.names.length > maxNames) errors.add(FieldPath.root("names"), `must name at most ${maxNames} instances, got ${req.names.length}`);
  const seen = new Set<string>();
  req.names.forEach((name, i) => {
    if (name === "") errors.add(FieldPath.root("names").index(i), "must not be empty");
    else if (seen.has(name)) errors.add(FieldPath.root("names").index(i), `duplicates ${JSON.stringify(name)}`);
    seen.add(name);
  });
  return errors;
}

interface LogWire {
  account: string;
  namespace: string;
  name: string;
  container: string;
  tailLines: number;
  since?: Duration;
}

function logProblems(req: LogWire, errors: FieldErrors): FieldErrors {
  requiredNames(errors, { account: req.account, namespace: req.namespace, name: req.name });
  if (req.tailLines < 0 || req.tailLines > maxTailLines) errors.add(FieldPath.root("tail_lines"), `must be between 0 and ${maxTailLines}, got ${req.tailLines}`);
  if (req.since && (req.since.seconds <= 0 || req.since.nanos !== 0)) errors.add(FieldPath.root("since"), "must be a positive whole number of seconds");
  return errors;
}

function logRequest(req: LogWire) {
  return {
    namespace: req.namespace,
    name: req.name,
    container: req.container,
    tailLines: req.tailLines || undefined,
    sinceSeconds: req.since ? req.since.seconds : undefined,
  };
}

/** Keeps the newest `maxChunkBytes` (or a little less: whole characters) of a message, counting what it leaves out. */
function bounded(m: FollowInstanceLogsResponse): FollowInstanceLogsResponse {
  const bytes = Buffer.from(m.content, "utf8");
  if (bytes.length <= maxChunkBytes) return m;
  const kept = utf8Tail(bytes, maxChunkBytes);
  return { content: kept.toString("utf8"), droppedBytes: m.droppedBytes + bytes.length - kept.length };
}

const outcomes: Record<core.InstanceOutcome, InstanceOutcome> = {
  changed: InstanceOutcome.INSTANCE_OUTCOME_CHANGED,
  unchanged: InstanceOutcome.INSTANCE_OUTCOME_UNCHANGED,
  "not-found": InstanceOutcome.INSTANCE_OUTCOME_NOT_FOUND,
  "not-managed": InstanceOutcome.INSTANCE_OUTCOME_NOT_MANAGED,
  "not-behind-load-balancer": InstanceOutcome.INSTANCE_OUTCOME_NOT_BEHIND_LOAD_BALANCER,
};

function resultToProto(r: core.InstanceResult): InstanceResult {
  return { name: r.name, outcome: outcomes[r.outcome], serverGroup: r.serverGroup, message: r.message };
}
