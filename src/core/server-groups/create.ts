import { randomUUID } from "node:crypto";
import type { V1ReplicationController } from "@kubernetes/client-node";
import { pullSecretNames, type Account } from "../accounts/account.js";
import type { AccountRegistry } from "../accounts/registry.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { createReplicationController, listReplicationControllers, readReplicationController } from "../../kube/replication-controllers.js";
import { readService } from "../../kube/services.js";
import { listPods } from "../../kube/pods.js";
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
import { annotationKeys, labelKeys, managedByLabel } from "./labels.js";
import { replicationControllerFor } from "./manifest.js";
import { clusterName, parseServerGroupName } from "./naming.js";
import { managedNamespace } from "./scope.js";
import type { ServerGroup, ServerGroupSpec } from "./spec.js";
import { validateSpec } from "./validate.js";
import { nextVersion } from "./versions.js";
import { podSelector, serverGroupView } from "./view.js";

export interface CreateRequest {
  account: string;
  namespace: string;
  spec: ServerGroupSpec;
  requestId?: string;
}

/** Creating loses a race at most once per concurrent creator; this bounds pathological contention. */
const maxAttempts = 50;

/**
 * Creates the next version of the spec's cluster. Versions are claimed by the
 * API server's create: when another caller (or kubedriver replica) took the
 * version first, the create fails with AlreadyExists and the next free one is
 * tried, so no version is used twice and nothing is overwritten. With a
 * request id, a retry returns the group the first attempt created.
 */
export async function createServerGroup(registry: AccountRegistry, req: CreateRequest, opts?: KubeCallOptions): Promise<ServerGroup> {
  const spec = validateSpec(req.spec);
  const account = managedNamespace(registry, req.account, req.namespace);
  await requireLoadBalancers(account, req.namespace, spec.loadBalancers, opts);
  const cluster = clusterName(spec);
  const selector = `${managedByLabel.key}=${managedByLabel.value},${labelKeys.cluster}=${cluster}`;
  const marker = randomUUID();

  let existing: V1ReplicationController[] | undefined;
  /** Versions found taken by a create's AlreadyExists since the last list. */
  const taken: number[] = [];
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    // After a lost race the next version is known without a new list, unless a concurrent
    // retry of this very request may be the winner: then the list shows it.
    if (!existing || req.requestId) {
      existing = await listReplicationControllers(account.kube, req.namespace, selector, opts);
      taken.length = 0;
    }
    const earlier = req.requestId && existing.find((rc) => rc.metadata?.annotations?.[annotationKeys.createRequestId] === req.requestId);
    if (earlier) return viewWithPods(account, earlier, opts);
    const version = nextVersion([...existing.flatMap((rc) => parseServerGroupName(rc.metadata?.name ?? "")?.version ?? []), ...taken]);
    if (version === undefined) {
      throw new FailedPreconditionError(`cluster "${cluster}" in namespace "${req.namespace}" of account "${req.account}" already has all 1,000 versions; destroy some first`);
    }
    const manifest = replicationControllerFor(spec, version, pullSecretNames(account, req.namespace), req.requestId);
    manifest.metadata!.annotations![annotationKeys.createAttempt] = marker;
    try {
      const created = await createReplicationController(account.kube, req.namespace, manifest, opts);
      return serverGroupView(req.account, created, []);
    } catch (err) {
      if (isUnavailable(err) || isDeadlineExceeded(err)) return settleLostCreate(account, req.namespace, manifest.metadata!.name!, marker, err, opts);
      if (!isAlreadyExists(err)) throw err;
      taken.push(version);
    }
  }
  throw new ConflictError(`could not claim a free version of cluster "${cluster}" in namespace "${req.namespace}" after ${maxAttempts} attempts; retry`);
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
      ? new UnavailableError(`${cause.message}; ${outcome}`, { cause: err, reason: cause.reason, resource: cause.resource })
      : new DeadlineExceededError(`${cause.message}; ${outcome}`, { cause: err, reason: cause.reason, resource: cause.resource });
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
      `load balancer${missing.length > 1 ? "s" : ""} ${missing.map((m) => `"${m}"`).join(", ")} not found: no such Service in namespace "${namespace}" of account "${account.name}"`,
      { reason: "LOAD_BALANCER_NOT_FOUND", resource: { type: "service", name: missing[0]!, owner: `account ${account.name}, namespace ${namespace}` } },
    );
  }
}

async function viewWithPods(account: Account, rc: V1ReplicationController, opts?: KubeCallOptions): Promise<ServerGroup> {
  const pods = await listPods(account.kube, rc.metadata!.namespace!, podSelector(rc.metadata!.name!), opts);
  return serverGroupView(account.name, rc, pods);
}
