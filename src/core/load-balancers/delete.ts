import { FailedPreconditionError, isNotFound } from "../../common/errors.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { list } from "../../kube/kinds.js";
import { podKind } from "../../kube/pods.js";
import { replicationControllerKind } from "../../kube/replication-controllers.js";
import { deleteService } from "../../kube/services.js";
import type { Account } from "../accounts/account.js";
import { exactlyOnce } from "../shared/exactly-once.js";
import { isOurs, selectors, serverGroupOf } from "../shared/ownership.js";
import { about, whereIs } from "../shared/refs.js";
import { managedNamespace } from "../shared/scope.js";
import { podsBehind, routesTo } from "../shared/traffic-labels.js";
import { loadBalancerNotFound, readLoadBalancerService, requireManaged } from "./ownership.js";
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
export async function deleteLoadBalancer(account: Account, req: DeleteRequest, opts?: KubeCallOptions): Promise<string[]> {
  managedNamespace(account, req.ref.namespace);
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
        `load balancer "${req.ref.name}" ${whereIs(req.ref)} is still used by enabled server groups ${users.join(", ")}; disable them first, or set force: true`,
        { reason: "LOAD_BALANCER_IN_USE", ...about("load balancer", req.ref) },
      );
    }
    await deleteService(account.kube, req.ref.namespace, req.ref.name, svc.metadata!.uid!, o).catch((err: unknown) => {
      if (resumed && isNotFound(err)) return;
      throw isNotFound(err) ? loadBalancerNotFound(req.ref, err) : err;
    });
    return users;
  };
  return exactlyOnce(
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
  const [rcs, pods] = await Promise.all([
    list(account.kube, replicationControllerKind, ref.namespace, selectors.serverGroups(), opts),
    list(account.kube, podKind, ref.namespace, podsBehind(ref.name), opts),
  ]);
  const byTemplate = rcs.filter((rc) => isOurs(rc) && routesTo(rc.spec?.template?.metadata?.labels, ref.name)).map((rc) => rc.metadata!.name!);
  const byPods = pods.filter((p) => !p.metadata?.deletionTimestamp).map(serverGroupOf);
  return [...new Set([...byTemplate, ...byPods].filter(Boolean))].sort();
}
