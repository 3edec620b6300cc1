import { NotFoundError } from "../../common/errors.js";
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
}
