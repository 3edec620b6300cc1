import { NotFoundError, PermissionDeniedError } from "../../common/errors.js";
import type { Caller } from "../auth/caller.js";
import { mayUse, type Permission } from "../auth/permissions.js";
import type { Account } from "./account.js";

/** The configured accounts, by name. */
export class AccountRegistry {
  private readonly byName: Map<string, Account>;

  constructor(accounts: readonly Account[]) {
    this.byName = new Map([...accounts].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((a) => [a.name, a]));
  }

  /** Every account, ordered by name. */
  list(): Account[] {
    return [...this.byName.values()];
  }

  /** The accounts `caller` may use with `permission`, ordered by name. */
  usableBy(caller: Caller | undefined, permission: Permission): Account[] {
    return this.list().filter((a) => mayUse(caller, a.permissions, permission));
  }

  /** The named account; NotFoundError naming it when there is none. */
  get(name: string): Account {
    const account = this.byName.get(name);
    if (!account) {
      throw new NotFoundError(`account "${name}" is not configured`, {
        reason: "ACCOUNT_NOT_FOUND",
        resource: { type: "account", name },
      });
    }
    return account;
  }

  /**
   * The named account, for a call that needs `permission` on it. An
   * authenticated caller is refused an account that does not exist exactly as
   * one it may not use (PERMISSION_DENIED, same message and reason, as Google
   * AIP-211 asks), so account names cannot be found by trying them. Without
   * authentication every caller may use every account, so an unknown one is
   * simply NOT_FOUND.
   */
  access(name: string, caller: Caller | undefined, permission: Permission): Account {
    const account = this.byName.get(name);
    if (!caller) return this.get(name);
    if (account && mayUse(caller, account.permissions, permission)) return account;
    throw new PermissionDeniedError(`caller "${caller.name}" lacks ${permission} permission on account "${name}"`, {
      reason: "ACCOUNT_PERMISSION_DENIED",
      resource: { type: "account", name },
    });
  }
}
