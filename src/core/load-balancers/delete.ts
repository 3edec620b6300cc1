import { FailedPreconditionError, isNotFound } from "../../common/errors.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { listPods } from "../../kube/pods.js";
import { listReplicationControllers } from "../../kube/replication-controllers.js";
import { deleteService } from "../../kube/services.js";
import type { Account } from "../accounts/account.js";
import type { AccountRegistry } from "../accounts/registry.js";
import { once } from "../requests/once.js";
import { isServerGroup, loadBalancerLabel, selectors } from "../server-groups/ownership.js";
import { managedNamespace } from "../server-groups/scope.js";
import { loadBalancerNotFound, readLoadBalancerService, requireManaged, serverGroupOf } from "./ownership.js";
import type { LoadBalancerRef } from "./spec.js";

export interface DeleteRequest {
  ref: LoadBalancerRef;
  force: boolean;
  adopt: boolean;
  requestId?: string;
}

/**
 * Deletes the Service, unless enabled server groups still use it (without
 * `force`). The delete is conditional on the uid just read, so a Service
 * recreated meanwhile (perhaps not kubedriver's) is never deleted in its
 * place. Returns the groups left enabled behind it.
 */
export async function deleteLoadBalancer(registry: AccountRegistry, req: DeleteRequest, opts?: KubeCallOptions): Promise<string[]> {
  const account = managedNamespace(registry, req.ref.account, req.ref.namespace);
  const remove = async (resumed: boolean, o?: KubeCallOptions): Promise<string[]> => {
    const svc = await readLoadBalancerService(account, req.ref, o).catch((err: unknown) => {
      // Resumed after a holder that died or gave up: the Service being gone is its work done.
      if (resumed && isNotFound(err)) return undefined;
      throw err;
    });
    if (!svc) return [];
    requireManaged(svc, req.ref, req.adopt);
    const users = await enabledUsers(account, req.ref, o);
    if (users.length > 0 && !req.force) {
      throw new FailedPreconditionError(
        `load balancer "${req.ref.name}" in namespace "${req.ref.namespace}" of account "${req.ref.account}" is still used by enabled server groups ${users.join(", ")}; disable them first, or set force: true`,
        { reason: "LOAD_BALANCER_IN_USE", resource: { type: "load balancer", name: req.ref.name, owner: `account ${req.ref.account}, namespace ${req.ref.namespace}` } },
      );
    }
    await deleteService(account.kube, req.ref.namespace, req.ref.name, svc.metadata!.uid!, o).catch((err: unknown) => {
      if (resumed && isNotFound(err)) return;
      throw isNotFound(err) ? loadBalancerNotFound(req.ref, err) : err;
    });
    return users;
  };
  if (!req.requestId) return remove(false, opts);
  return once(
    {
      account,
      namespace: req.ref.namespace,
      requestId: req.requestId,
      operation: "DeleteLoadBalancer",
      request: { name: req.ref.name, force: req.force, adopt: req.adopt },
      run: ({ resumed, opts: held }) => remove(resumed, held),
      encode: (users) => JSON.stringify(users),
      replay: async (encoded) => JSON.parse(encoded) as string[],
    },
    opts,
  );
}

/** Server groups whose template or some live pod says "true" for the load balancer, sorted. */
async function enabledUsers(account: Account, ref: LoadBalancerRef, opts?: KubeCallOptions): Promise<string[]> {
  const label = loadBalancerLabel(ref.name);
  const [rcs, pods] = await Promise.all([
    listReplicationControllers(account.kube, ref.namespace, selectors.serverGroups(), opts),
    listPods(account.kube, ref.namespace, selectors.podsBehind(ref.name), opts),
  ]);
  const byTemplate = rcs.filter((rc) => isServerGroup(rc) && rc.spec?.template?.metadata?.labels?.[label] === "true").map((rc) => rc.metadata!.name!);
  const byPods = pods.filter((p) => !p.metadata?.deletionTimestamp).map(serverGroupOf);
  return [...new Set([...byTemplate, ...byPods].filter(Boolean))].sort();
}
