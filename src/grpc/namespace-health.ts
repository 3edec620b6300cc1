import type { AccountRegistry } from "../core/accounts/registry.js";
import { UnimplementedError } from "../core/errors.js";
import { HealthService, type HealthServer } from "../../gen/kubedriver/v1/health.js";
import { serverStream, unary, type CallDeps } from "./calls.js";

export { HealthService as NamespaceHealthService };

export function namespaceHealthHandlers(registry: AccountRegistry, deps: CallDeps): HealthServer {
  const checkAccounts = (accounts: string[]) => accounts.forEach((a) => registry.get(a));
  return {
    checkNamespaces: unary("CheckNamespaces", deps, async (req) => {
      checkAccounts(req.accounts);
      throw new UnimplementedError("CheckNamespaces is not implemented yet");
    }),
    watchNamespaces: serverStream("WatchNamespaces", deps, async (req) => {
      checkAccounts(req.accounts);
      throw new UnimplementedError("WatchNamespaces is not implemented yet");
    }),
  };
}
