import type { AccountPermissions } from "../../config/types.js";
import type { Caller } from "./caller.js";

export type Permission = "READ" | "WRITE";

/**
 * Whether `caller` may use an account: lists, gets and watches need READ,
 * every mutation needs WRITE. An account without permissions is open to every
 * caller; without authentication configured there is no caller and nothing to
 * check. A call that names an account resolves it with
 * `AccountRegistry.access`, which also decides what an unknown account answers.
 */
export function mayUse(caller: Caller | undefined, permissions: AccountPermissions | undefined, permission: Permission): boolean {
  if (!caller || !permissions) return true;
  const allowed = permission === "READ" ? [...permissions.read, ...permissions.write] : permissions.write;
  return caller.groups.some((g) => allowed.includes(g));
}
