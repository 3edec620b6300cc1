import { describe, expect, it } from "vitest";
import type { Account } from "../../../src/core/accounts/account.js";
import { AccountRegistry } from "../../../src/core/accounts/registry.js";
import type { Caller } from "../../../src/core/auth/caller.js";
import { isNotFound, isPermissionDenied, type KubedriverError } from "../../../src/common/errors.js";

const registry = new AccountRegistry([
  { name: "open" } as Account,
  { name: "guarded", permissions: { read: ["viewers"], write: ["deployers"] } } as Account,
]);
const viewer: Caller = { name: "rita", groups: ["viewers"] };
const outsider: Caller = { name: "otto", groups: ["elsewhere"] };

function refusal(run: () => unknown): { kind: string; message: string; reason: string; resource: unknown } {
  try {
    run();
  } catch (err) {
    const e = err as KubedriverError;
    return { kind: e.kind, message: e.message, reason: e.reason, resource: e.resource };
  }
  throw new Error("expected a refusal");
}

describe("resolving an account for a caller", () => {
  it("gives the account to a caller with the permission, and any account when authentication is off", () => {
    expect(registry.access("guarded", viewer, "READ").name).toBe("guarded");
    expect(registry.access("open", outsider, "WRITE").name).toBe("open");
    expect(registry.access("guarded", undefined, "WRITE").name).toBe("guarded");
  });

  it("refuses an unknown account exactly as one the caller may not use (AIP-211)", () => {
    for (const [caller, permission] of [
      [outsider, "READ"],
      [outsider, "WRITE"],
      [viewer, "WRITE"],
    ] as const) {
      const denied = refusal(() => registry.access("guarded", caller, permission));
      const unknown = refusal(() => registry.access("ghost", caller, permission));
      expect(denied).toEqual({
        kind: "PermissionDenied",
        message: `caller "${caller.name}" lacks ${permission} permission on account "guarded"`,
        reason: "ACCOUNT_PERMISSION_DENIED",
        resource: { type: "account", name: "guarded" },
      });
      expect(unknown).toEqual({ ...denied, message: denied.message.replace('"guarded"', '"ghost"'), resource: { type: "account", name: "ghost" } });
    }
    expect(refusal(() => registry.access("ghost", viewer, "READ")).kind).toBe("PermissionDenied");
  });

  it("says NOT_FOUND for an unknown account when authentication is off: every caller may see every account", () => {
    let err: unknown;
    try {
      registry.access("ghost", undefined, "READ");
    } catch (e) {
      err = e;
    }
    expect(isNotFound(err)).toBe(true);
    expect(isPermissionDenied(err)).toBe(false);
  });

  it("lists the accounts a caller may use", () => {
    expect(registry.usableBy(outsider, "READ").map((a) => a.name)).toEqual(["open"]);
    expect(registry.usableBy(viewer, "READ").map((a) => a.name)).toEqual(["guarded", "open"]);
    expect(registry.usableBy(viewer, "WRITE").map((a) => a.name)).toEqual(["open"]);
    expect(registry.usableBy(undefined, "WRITE").map((a) => a.name)).toEqual(["guarded", "open"]);
  });
});
