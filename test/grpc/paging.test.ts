import { describe, expect, it } from "vitest";
import { FieldErrors } from "../../src/common/field-path.js";
import { pageOf, readPageRequest, type PageLimits } from "../../src/grpc/paging.js";

const names = Array.from({ length: 25 }, (_, i) => `n${String(i).padStart(2, "0")}`);
const limits = { defaultSize: 5, maxSize: 10 };
/** The problems of a request's paging fields, as its handler collects them with the rest. */
const problemsOf = (request: { pageSize: number; pageToken: string; filter?: string }) => {
  const errors = new FieldErrors();
  readPageRequest(request, limits, errors);
  return errors.violations;
};
/** A page of a request with one filter beside the paging fields, as the list RPCs' requests have. */
const page = (pageSize: number, pageToken = "", filter = "", pageLimits: PageLimits<string> = limits) => {
  const errors = new FieldErrors();
  const fields = { filter, pageSize, pageToken };
  const request = readPageRequest(fields, pageLimits, errors);
  expect(errors.violations).toEqual([]);
  return pageOf(names, (n) => n, request, pageLimits);
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

  it("names a negative size, a token issued for other filters and one it never issued, before anything is listed", () => {
    expect(problemsOf({ pageSize: -1, pageToken: "" })).toEqual([{ field: "page_size", description: "must not be negative" }]);
    const token = page(1, "", "a").nextPageToken;
    expect(problemsOf({ pageSize: 1, pageToken: token, filter: "b" })).toEqual([{ field: "page_token", description: "belongs to a request with other filters" }]);
    expect(problemsOf({ pageSize: -1, pageToken: "not-ours" }).map((v) => v.field)).toEqual(["page_size", "page_token"]);
  });

  it("ends a page before the item that would take it past the byte limit, and always serves one item", () => {
    const sizes = new Map(names.map((n, i) => [n, i === 3 ? 500 : 30]));
    const bytes = { max: 100, of: (n: string) => sizes.get(n)! };
    const pages: string[][] = [];
    let token = "";
    do {
      const p = page(10, token, "", { ...limits, bytes });
      pages.push(p.items);
      token = p.nextPageToken;
    } while (token);
    // 30 + 30 + 30 fit in 100; n03 alone is larger than the limit and still gets its page.
    expect(pages.slice(0, 3)).toEqual([["n00", "n01", "n02"], ["n03"], ["n04", "n05", "n06"]]);
    expect(pages.flat()).toEqual(names);
    expect(pages.every((items) => items.length === 1 || items.reduce((n, i) => n + bytes.of(i), 0) <= bytes.max)).toBe(true);
  });
});
