import type { Account as CoreAccount } from "../core/accounts/account.js";
import type { AccountProvisioner, Reachability as CoreReachability } from "../core/accounts/provisioner.js";
import type { ProvisioningAction as CoreAction, ProvisioningFailure, ProvisioningResult as CoreResult } from "../core/accounts/provisioning-result.js";
import type { AccountRegistry } from "../core/accounts/registry.js";
import type { ConfigStatus } from "../core/accounts/reloader.js";
import {
  type Account,
  AccountsService,
  type AccountsServer,
  ProvisioningAction,
  type ProvisioningError,
  type GetConfigStatusResponse,
  type ProvisioningResult,
  Reachability,
} from "../../gen/kubedriver/v1/accounts.js";
import { unary, type CallDeps } from "./calls.js";
import { InvalidArgumentError } from "../common/errors.js";
import { FieldErrors } from "../common/field-path.js";
import { pageOf, readPageRequest } from "./paging.js";
import { requiredNames } from "./request-fields.js";
import { grpcCodeName } from "./status.js";

const pageSizes = { defaultSize: 100, maxSize: 1000 };

export { AccountsService };

/** The configuration status, and whether the config file is watched at all. */
export type ConfigStatusSource = () => ConfigStatus & { watched: boolean };

export function accountsHandlers(
  registry: AccountRegistry,
  provisioner: AccountProvisioner,
  configStatus: ConfigStatusSource,
  deps: CallDeps,
): AccountsServer {
  const toProto = (a: CoreAccount): Account => {
    const state = provisioner.state(a.name);
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
      reachability: reachabilities[state.reachability],
      reachabilityError: state.reachabilityError ?? "",
      lastProvisioning: state.lastProvisioning && resultToProto(state.lastProvisioning),
    };
  };
  return {
    listAccounts: unary("ListAccounts", deps, async (req, ctx) => {
      const errors = new FieldErrors();
      const request = readPageRequest(req, pageSizes, errors);
      InvalidArgumentError.throwIfAny(errors, "invalid list request");
      const page = pageOf(registry.usableBy(ctx.caller, "READ"), (a) => a.name, request, pageSizes);
      return { accounts: page.items.map(toProto), nextPageToken: page.nextPageToken };
    }),
    getAccount: unary("GetAccount", deps, async (req, ctx) => {
      InvalidArgumentError.throwIfAny(requiredNames(new FieldErrors(), { account: req.account }), "invalid request");
      const account = registry.access(req.account, ctx.caller, "READ");
      return { account: toProto(account) };
    }),
    syncAccount: unary("SyncAccount", deps, async (req, ctx) => {
      InvalidArgumentError.throwIfAny(requiredNames(new FieldErrors(), { account: req.account }), "invalid request");
      const account = registry.access(req.account, ctx.caller, "WRITE");
      return { result: resultToProto(await provisioner.sync(account)) };
    }),
    getConfigStatus: unary("GetConfigStatus", deps, async (_req, ctx) => {
      // Problems name accounts: only a caller who may read every account sees them (AIP-211, as for GetAccount).
      const seesAll = registry.usableBy(ctx.caller, "READ").length === registry.list().length;
      return statusToProto(configStatus(), seesAll);
    }),
  };
}

const reachabilities: Record<CoreReachability, Reachability> = {
  unknown: Reachability.REACHABILITY_UNSPECIFIED,
  reachable: Reachability.REACHABILITY_REACHABLE,
  unreachable: Reachability.REACHABILITY_UNREACHABLE,
};

const actions: Record<CoreAction, ProvisioningAction> = {
  created: ProvisioningAction.PROVISIONING_ACTION_CREATED,
  updated: ProvisioningAction.PROVISIONING_ACTION_UPDATED,
  unchanged: ProvisioningAction.PROVISIONING_ACTION_UNCHANGED,
  failed: ProvisioningAction.PROVISIONING_ACTION_FAILED,
  skipped: ProvisioningAction.PROVISIONING_ACTION_UNSPECIFIED,
};

function statusToProto(s: ConfigStatus & { watched: boolean }, withProblems: boolean): GetConfigStatusResponse {
  return {
    generation: s.generation,
    loadTime: s.loadedAt,
    source: s.source,
    watched: s.watched,
    lastAttemptTime: s.lastAttemptAt,
    lastError: s.lastError && {
      time: s.lastError.at,
      message: s.lastError.message,
      problems: withProblems ? s.lastError.problems.map((p) => ({ field: p.field, description: p.description })) : [],
    },
  };
}

function errorToProto(e: ProvisioningFailure | undefined): ProvisioningError | undefined {
  return e && { code: grpcCodeName(e.kind), message: e.message };
}

function resultToProto(r: CoreResult): ProvisioningResult {
  return {
    startTime: r.startTime,
    endTime: r.endTime,
    succeeded: r.succeeded,
    namespaces: r.namespaces.map((n) => ({
      namespace: n.namespace,
      action: actions[n.action],
      error: errorToProto(n.error),
      pullSecrets: n.pullSecrets.map((s) => ({ name: s.name, action: actions[s.action], error: errorToProto(s.error) })),
    })),
  };
}
