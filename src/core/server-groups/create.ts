import { randomUUID } from "node:crypto";
import type { V1ReplicationController } from "@kubernetes/client-node";
import { pullSecretNames, type Account } from "../accounts/account.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { list } from "../../kube/kinds.js";
import { createReplicationController, readReplicationController, replicationControllerKind } from "../../kube/replication-controllers.js";
import { readService } from "../../kube/services.js";
import {
  ConflictError,
  DeadlineExceededError,
  FailedPreconditionError,
  findKubedriverError,
  isAlreadyExists,
  isDeadlineExceeded,
  isNotFound,
  isUnavailable,
  UnavailableError,
} from "../../common/errors.js";
import { exactlyOnce } from "../shared/exactly-once.js";
import { annotationKeys, selectors } from "../shared/ownership.js";
import { about, whereIs } from "../shared/refs.js";
import { managedNamespace } from "../shared/scope.js";
import { replicationControllerFor } from "./manifest.js";
import { clusterName, parseServerGroupName } from "./naming.js";
import { readServerGroup, viewWithPods } from "./read.js";
import type { ServerGroup, ServerGroupSpec } from "./spec.js";
import type { ValidatedSpec } from "./validate.js";
import { nextVersion } from "./versions.js";
import { serverGroupView } from "./view.js";

/** A create, validated in one pass at the edge (`checkSpec`): core does not check it again. */
export interface CreateRequest {
  namespace: string;
  spec: ValidatedSpec;
  requestId?: string;
}

/** Creating loses a race at most once per concurrent creator; this bounds pathological contention. */
const maxAttempts = 50;

/** Creates the next version of the spec's cluster; with a request id, exactly once (see `exactlyOnce`). */
export async function createServerGroup(account: Account, req: CreateRequest, opts?: KubeCallOptions): Promise<ServerGroup> {
  managedNamespace(account, req.namespace);
  return createdOnce(
    { account, namespace: req.namespace, requestId: req.requestId, operation: "CreateServerGroup", request: req.spec },
    (o) => claimNextVersion(account, req.namespace, req.spec, req.requestId, o),
    opts,
  );
}

/**
 * Runs a create (or clone) once per request id: a retry, a concurrent
 * duplicate or another replica answers with the group the first one created.
 */
export function createdOnce(
  req: { account: Account; namespace: string; requestId?: string; operation: string; request: unknown },
  create: (opts?: KubeCallOptions) => Promise<ServerGroup>,
  opts?: KubeCallOptions,
): Promise<ServerGroup> {
  const { account, namespace } = req;
  return exactlyOnce(
    {
      ...req,
      run: ({ opts: held }) => create(held),
      encode: (group) => group.name,
      replay: (name) => readServerGroup(account, { account: account.name, namespace, name }, opts),
    },
    opts,
  );
}

/**
 * Creates the next version of a validated spec's cluster. Versions are
 * claimed by the API server's create: when another caller (or kubedriver
 * replica) took the version first, the create fails with AlreadyExists and
 * the next free one is tried, so no version is used twice and nothing is
 * overwritten. A create resumed for a request id first looks for the group
 * an earlier holder of the id may have created.
 */
export async function claimNextVersion(
  account: Account,
  namespace: string,
  spec: ServerGroupSpec,
  requestId: string | undefined,
  opts?: KubeCallOptions,
): Promise<ServerGroup> {
  await requireLoadBalancers(account, namespace, spec.loadBalancers, opts);
  const cluster = clusterName(spec);
  const marker = randomUUID();
  const existing = await list(account.kube, replicationControllerKind, namespace, selectors.serverGroups({ cluster }), opts);
  const earlier = requestId && existing.find((rc) => rc.metadata?.annotations?.[annotationKeys.createRequestId] === requestId);
  if (earlier) return viewWithPods(account, earlier, opts);
  /** Versions found taken: listed, or claimed by someone else's create since. */
  const taken = existing.flatMap((rc) => parseServerGroupName(rc.metadata?.name ?? "")?.version ?? []);
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const version = nextVersion(taken);
    if (version === undefined) {
      throw new FailedPreconditionError(`cluster "${cluster}" ${whereIs({ account: account.name, namespace })} already has all 1,000 versions; destroy some first`, {
        reason: "VERSIONS_EXHAUSTED",
        metadata: { account: account.name, namespace },
      });
    }
    const manifest = replicationControllerFor(spec, version, pullSecretNames(account, namespace), requestId);
    manifest.metadata!.annotations![annotationKeys.createAttempt] = marker;
    try {
      const created = await createReplicationController(account.kube, namespace, manifest, opts);
      return serverGroupView(account.name, created, []);
    } catch (err) {
      if (isUnavailable(err) || isDeadlineExceeded(err)) return settleLostCreate(account, namespace, manifest.metadata!.name!, marker, err, opts);
      if (!isAlreadyExists(err)) throw err;
      taken.push(version);
    }
  }
  throw new ConflictError(`could not claim a free version of cluster "${cluster}" ${whereIs({ account: account.name, namespace })} after ${maxAttempts} attempts; retry`, {
    reason: "VERSION_CONTENDED",
    metadata: { account: account.name, namespace },
  });
}

/**
 * The create's answer never came (connection cut, API server failing or too
 * slow): it may or may not have taken effect. One read of the name settles it:
 * our attempt's marker means the group exists as requested; absence means
 * nothing was created. Only when that read fails too does the error say that
 * the outcome is unknown, and how to find out.
 */
async function settleLostCreate(
  account: Account,
  namespace: string,
  name: string,
  marker: string,
  err: unknown,
  opts?: KubeCallOptions,
): Promise<ServerGroup> {
  const cause = findKubedriverError(err)!;
  const unknown = `server group "${name}" may or may not have been created: GetServerGroup tells, and a retry with the same request_id never creates a second one`;
  const lost = (outcome: string) =>
    cause.kind === "Unavailable"
      ? new UnavailableError(`${cause.message}; ${outcome}`, { cause: err, reason: cause.reason, resource: cause.resource, metadata: cause.metadata })
      : new DeadlineExceededError(`${cause.message}; ${outcome}`, { cause: err, reason: cause.reason, resource: cause.resource, metadata: cause.metadata });
  if (opts?.signal?.aborted) {
    throw lost(unknown);
  }
  let rc: V1ReplicationController;
  try {
    rc = await readReplicationController(account.kube, namespace, name, opts);
  } catch (readErr) {
    if (isNotFound(readErr)) throw lost(`server group "${name}" was not created`);
    throw lost(unknown);
  }
  if (rc.metadata?.annotations?.[annotationKeys.createAttempt] === marker) return viewWithPods(account, rc, opts);
  throw lost(`server group "${name}" was not created by this call (another caller created that version meanwhile); retry to create the next version`);
}

async function requireLoadBalancers(account: Account, namespace: string, services: string[], opts?: KubeCallOptions): Promise<void> {
  const missing = (
    await Promise.all(
      services.map((name) =>
        readService(account.kube, namespace, name, opts).then(
          () => undefined,
          (err: unknown) => {
            if (isNotFound(err)) return name;
            throw err;
          },
        ),
      ),
    )
  ).filter((n): n is string => n !== undefined);
  if (missing.length > 0) {
    throw new FailedPreconditionError(
      `load balancer${missing.length > 1 ? "s" : ""} ${missing.map((m) => `"${m}"`).join(", ")} not found: no such Service ${whereIs({ account: account.name, namespace })}`,
      { reason: "LOAD_BALANCER_NOT_FOUND", ...about("load balancer", { account: account.name, namespace, name: missing[0]! }) },
    );
  }
}
