import type { Account as CoreAccount } from "../core/accounts/account.js";
import type { AccountRegistry } from "../core/accounts/registry.js";
import { UnimplementedError } from "../core/errors.js";
import { type Account, AccountsService, type AccountsServer, Reachability } from "../../gen/kubedriver/v1/accounts.js";
import { unary, type CallDeps } from "./calls.js";
import { pageOf } from "./paging.js";
import { requireField } from "./validation.js";

export { AccountsService };

export function accountsHandlers(registry: AccountRegistry, deps: CallDeps): AccountsServer {
  return {
    listAccounts: unary("ListAccounts", deps, async (req) => {
      const page = pageOf(registry.list(), (a) => a.name, req, { defaultSize: 100, maxSize: 1000 });
      return { accounts: page.items.map(toProto), nextPageToken: page.nextPageToken };
    }),
    getAccount: unary("GetAccount", deps, async (req) => {
      requireField("account", req.account);
      return { account: toProto(registry.get(req.account)) };
    }),
    syncAccount: unary("SyncAccount", deps, async (req) => {
      requireField("account", req.account);
      registry.get(req.account);
      throw new UnimplementedError("SyncAccount is not implemented yet");
    }),
  };
}

function toProto(a: CoreAccount): Account {
  return {
    name: a.name,
    context: a.context,
    cluster: a.cluster,
    user: a.user,
    server: a.server,
    namespaces: a.namespaces,
    dockerRegistries: a.pullSecrets.map((b) => ({
      accountName: b.registry.name,
      address: b.registry.address,
      namespaces: b.namespaces,
      secretName: b.secretName,
    })),
    reachability: Reachability.REACHABILITY_UNSPECIFIED,
    reachabilityError: "",
    lastProvisioning: undefined,
  };
}
