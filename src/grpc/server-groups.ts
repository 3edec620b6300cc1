import type { AccountRegistry } from "../core/accounts/registry.js";
import { UnimplementedError } from "../core/errors.js";
import { ServerGroupsService, type ServerGroupsServer } from "../../gen/kubedriver/v1/server_groups.js";
import { unary, type CallDeps } from "./calls.js";
import { requireField } from "./validation.js";

export { ServerGroupsService };

export function serverGroupsHandlers(registry: AccountRegistry, deps: CallDeps): ServerGroupsServer {
  const notYet = (method: string) =>
    unary(method, deps, async (req: { account: string }) => {
      requireField("account", req.account);
      registry.get(req.account);
      throw new UnimplementedError(`${method} is not implemented yet`);
    });
  return {
    createServerGroup: notYet("CreateServerGroup"),
    cloneServerGroup: notYet("CloneServerGroup"),
    getServerGroup: notYet("GetServerGroup"),
    listServerGroups: notYet("ListServerGroups"),
    resizeServerGroup: notYet("ResizeServerGroup"),
    enableServerGroup: notYet("EnableServerGroup"),
    disableServerGroup: notYet("DisableServerGroup"),
    destroyServerGroup: notYet("DestroyServerGroup"),
  };
}
