import { Subject, type Observable } from "rxjs";
import { NotFoundError, PermissionDeniedError } from "../../common/errors.js";
import type { Caller } from "../auth/caller.js";
import { mayUse, type Permission } from "../auth/permissions.js";
import type { Account } from "./account.js";
import { type AccountChanges, isEmptyChange, sameAccount, scopeOf } from "./changes.js";

/** Accounts removed from the configuration remembered, so that a call naming one is told so. */
const maxRemembered = 10_000;

/**
 * The configured accounts, by name. A reload swaps the whole set with
 * `apply`; every component that holds per-account state follows `changes$`.
 * A call holds the Account object it started with, so it finishes on it.
 */
export class AccountRegistry {
  private byName: Map<string, Account>;
  private readonly removed = new Map<string, Account>();
  private readonly changes = new Subject<AccountChanges>();

  /** Every non-empty change, after it is in force (so `list()` already gives the new set). */
  readonly changes$: Observable<AccountChanges> = this.changes.asObservable();

  constructor(accounts: readonly Account[]) {
    this.byName = byName(accounts);
  }

  /**
   * Puts `next` in force and says what changed. An account equal to the
   * running one should be passed as the same object (resolveAccounts does);
   * an equal copy is kept as the running object.
   */
  apply(next: readonly Account[]): AccountChanges {
    const changes: AccountChanges = { added: [], removed: [], changed: [], unchanged: 0 };
    const kept: Account[] = [];
    for (const account of next) {
      const before = this.byName.get(account.name);
      if (!before) changes.added.push(account);
      else if (before === account || sameAccount(before, account)) {
        changes.unchanged++;
        kept.push(before);
        continue;
      } else changes.changed.push({ before, after: account, scope: scopeOf(before, account) });
      kept.push(account);
    }
    const names = new Set(next.map((a) => a.name));
    for (const [name, account] of this.byName) if (!names.has(name)) changes.removed.push(account);
    if (isEmptyChange(changes)) return changes;

    this.byName = byName(kept);
    for (const a of changes.added) this.removed.delete(a.name);
    for (const a of changes.removed) {
      this.removed.set(a.name, a);
      if (this.removed.size > maxRemembered) this.removed.delete(this.removed.keys().next().value!);
    }
    this.changes.next(changes);
    return changes;
  }

  /** Every account, ordered by name. */
  list(): Account[] {
    return [...this.byName.values()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The accounts `caller` may use with `permission`, ordered by name. */
  usableBy(caller: Caller | undefined, permission: Permission): Account[] {
    return this.list().filter((a) => mayUse(caller, a.permissions, permission));
  }

  /** The named account; NotFoundError naming it when there is none (saying so when a reload removed it). */
  get(name: string): Account {
    const account = this.byName.get(name);
    if (!account) throw this.notFound(name);
    return account;
  }

  /**
   * The named account, for a call that needs `permission` on it. An
   * authenticated caller is refused an account that does not exist exactly as
   * one it may not use (PERMISSION_DENIED, same message and reason, as Google
   * AIP-211 asks), so account names cannot be found by trying them. Without
   * authentication every caller may use every account, so an unknown one is
   * simply NOT_FOUND. A caller who could use an account a reload removed is
   * told it was removed.
   */
  access(name: string, caller: Caller | undefined, permission: Permission): Account {
    const account = this.byName.get(name);
    if (!caller) return this.get(name);
    if (account && mayUse(caller, account.permissions, permission)) return account;
    const removed = this.removed.get(name);
    if (!account && removed && mayUse(caller, removed.permissions, permission)) throw this.notFound(name);
    throw new PermissionDeniedError(`caller "${caller.name}" lacks ${permission} permission on account "${name}"`, {
      reason: "ACCOUNT_PERMISSION_DENIED",
      resource: { type: "account", name },
      metadata: { account: name },
    });
  }

  /** The error for a call on an account that is not (or no longer) configured. */
  notFound(name: string): NotFoundError {
    if (this.removed.has(name)) {
      return new NotFoundError(`account "${name}" was removed from the configuration`, {
        reason: "ACCOUNT_REMOVED",
        resource: { type: "account", name },
        metadata: { account: name },
      });
    }
    return new NotFoundError(`account "${name}" is not configured`, {
      reason: "ACCOUNT_NOT_FOUND",
      resource: { type: "account", name },
      metadata: { account: name },
    });
  }
}

function byName(accounts: readonly Account[]): Map<string, Account> {
  return new Map([...accounts].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((a) => [a.name, a]));
}
