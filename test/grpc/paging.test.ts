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

  it("ends a page before the item that would take it past the byte limit, and always serves one item", () => {
    const sizes = new Map(names.map((n, i) => [n, i === 3 ? 500 : 30]));
    const bytes = { max: 100, of: (n: string) => sizes.get(n)! };
    const pages: string[][] = [];
    let token = "";
    do {
      const p = pageOf(names, (n) => n, { pageSize: 10, pageToken: token }, { ...limits, bytes });
      pages.push(p.items);
      token = p.nextPageToken;
    } while (token);
    // 30 + 30 + 30 fit in 100; n03 alone is larger than the limit and still gets its page.
    expect(pages.slice(0, 3)).toEqual([["n00", "n01", "n02"], ["n03"], ["n04", "n05", "n06"]]);
    expect(pages.flat()).toEqual(names);
    expect(pages.every((items) => items.length === 1 || items.reduce((n, i) => n + bytes.of(i), 0) <= bytes.max)).toBe(true);
  });
});
