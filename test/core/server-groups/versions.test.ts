import { describe, expect, it } from "vitest";
import { nextVersion } from "../../../src/core/server-groups/versions.js";

describe("nextVersion", () => {
  it("starts a cluster at v000", () => {
    expect(nextVersion([])).toBe(0);
  });

  it("follows the highest version, not the count or the order", () => {
    expect(nextVersion([0, 1, 2])).toBe(3);
    expect(nextVersion([7, 2])).toBe(8);
    expect(nextVersion(new Set([41]))).toBe(42);
  });

  it("after v999 wraps to the lowest free version", () => {
    expect(nextVersion([998, 999])).toBe(0);
    expect(nextVersion([0, 1, 2, 999])).toBe(3);
  });

  it("is undefined when all 1,000 versions are taken", () => {
    expect(nextVersion(Array.from({ length: 1_000 }, (_, v) => v))).toBeUndefined();
  });
});
