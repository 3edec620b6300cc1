import { describe, expect, it } from "vitest";
import { isInvalidArgument } from "../../src/common/errors.js";
import { pageOf } from "../../src/grpc/paging.js";

const names = Array.from({ length: 25 }, (_, i) => `n${String(i).padStart(2, "0")}`);
const limits = { defaultSize: 5, maxSize: 10 };
/** A request with one filter beside the paging fields, as the list RPCs' requests have. */
const page = (pageSize: number, pageToken = "", filter = "") => {
  const request = { filter, pageSize, pageToken };
  return pageOf(names, (n) => n, request, limits);
};

describe("pageOf", () => {
  it("serves the default for 0 and the maximum for anything above it, with a token for the rest (AIP-158)", () => {
    expect(page(0).items).toEqual(names.slice(0, 5));
    const first = page(2 ** 31 - 1);
    expect(first.items).toEqual(names.slice(0, 10));
    const second = page(2 ** 31 - 1, first.nextPageToken);
    expect(second.items).toEqual(names.slice(10, 20));
    expect(page(11, second.nextPageToken)).toEqual({ items: names.slice(20), nextPageToken: "" });
  });

  it("refuses a negative size, and a token issued for other filters", () => {
    expect(() => page(-1)).toThrow(expect.objectContaining({ violations: [{ field: "page_size", description: "must not be negative" }] }));
    const token = page(1, "", "a").nextPageToken;
    let err: unknown;
    try {
      page(1, token, "b");
    } catch (e) {
      err = e;
    }
    expect(isInvalidArgument(err)).toBe(true);
    expect((err as { violations: { field: string }[] }).violations.map((v) => v.field)).toEqual(["page_token"]);
  });
});
