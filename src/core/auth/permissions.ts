import type { AccountPermissions } from "../../config/types.js";
import { PermissionDeniedError } from "../../common/errors.js";
import type { Caller } from "./caller.js";

export type Permission = "READ" | "WRITE";

/**
 * Whether `caller` may use an account: lists, gets and watches need READ,
 * every mutation needs WRITE. An account without permissions is open to every
 * caller; without authentication configured there is no caller and nothing to
 * check.
 */
export function mayUse(caller: Caller | undefined, permissions: AccountPermissions | undefined, permission: Permission): boolean {
  if (!caller || !permissions) return true;
  const allowed = permission === "READ" ? [...permissions.read, ...permissions.write] : permissions.write;
  return caller.groups.some((g) => allowed.includes(g));
}

export function requirePermission(
  caller: Caller | undefined,
  account: { name: string; permissions?: AccountPermissions },
  permission: Permission,
): void {
  if (mayUse(caller, account.permissions, permission)) return;
  throw new PermissionDeniedError(`caller "${caller!.name}" lacks ${permission} permission on account "${account.name}"`, {
    reason: "ACCOUNT_PERMISSION_DENIED",
    resource: { type: "account", name: account.name },
  });
}
