import type { AccountRegistry } from "../core/accounts/registry.js";
import { InvalidArgumentError } from "../common/errors.js";
import { FieldErrors, FieldPath } from "../common/field-path.js";
import { deleteAutoscaler } from "../core/autoscalers/delete.js";
import { upsertAutoscaler } from "../core/autoscalers/upsert.js";
import { policyProblems } from "../core/autoscalers/validate.js";
import type { LiveViews } from "../core/server-groups/live-views.js";
import { serverGroupNameProblem } from "../core/server-groups/naming.js";
import { AutoscalersService, type AutoscalersServer } from "../../gen/kubedriver/v1/autoscalers.js";
import { unary, type CallDeps } from "./calls.js";
import { requestIdProblems, requiredNames } from "./request-fields.js";
import { serverGroupToProto } from "./server-group-convert.js";

export { AutoscalersService };

export function autoscalersHandlers(registry: AccountRegistry, views: LiveViews, deps: CallDeps): AutoscalersServer {
  return {
    upsertAutoscaler: unary("UpsertAutoscaler", deps, async (req, ctx) => {
      const errors = refProblems(req);
      policyProblems(req.policy, errors);
      InvalidArgumentError.throwIfAny(errors, "invalid autoscaler");
      const account = registry.access(req.account, ctx.caller, "WRITE");
      const group = await upsertAutoscaler(account, views, refOf(req), req.policy!, req.requestId || undefined, { signal: ctx.signal });
      return { serverGroup: serverGroupToProto(group) };
    }),
    deleteAutoscaler: unary("DeleteAutoscaler", deps, async (req, ctx) => {
      InvalidArgumentError.throwIfAny(refProblems(req), "invalid request");
      const account = registry.access(req.account, ctx.caller, "WRITE");
      const group = await deleteAutoscaler(account, views, refOf(req), req.requestId || undefined, { signal: ctx.signal });
      return { serverGroup: serverGroupToProto(group) };
    }),
  };
}

function refProblems(req: { account: string; namespace: string; serverGroup: string; requestId: string }): FieldErrors {
  const errors = requiredNames(new FieldErrors(), { account: req.account, namespace: req.namespace });
  const problem = serverGroupNameProblem(req.serverGroup);
  if (problem) errors.add(FieldPath.root("server_group"), problem);
  return requestIdProblems(errors, req.requestId);
}

function refOf(req: { account: string; namespace: string; serverGroup: string }) {
  return { account: req.account, namespace: req.namespace, name: req.serverGroup };
}
