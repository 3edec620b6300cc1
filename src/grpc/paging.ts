import { createHash } from "node:crypto";
import { InvalidArgumentError } from "../common/errors.js";

/**
 * Pages through items sorted by a unique key. The token is the last key
 * served, so paging stays stable when items are added or removed between
 * calls, and a digest of the request's other fields, so that a token is only
 * good for the query that issued it (AIP-158). Tokens are opaque to callers
 * (base64url).
 */
export function pageOf<T>(
  sorted: readonly T[],
  keyOf: (item: T) => string,
  req: { pageSize: number; pageToken: string },
  limits: { defaultSize: number; maxSize: number },
): { items: T[]; nextPageToken: string } {
  if (req.pageSize < 0) {
    throw new InvalidArgumentError("page_size must not be negative", [{ field: "page_size", description: "must not be negative" }]);
  }
  // AIP-158: a size above the maximum is coerced to it, not refused; the protos say so, with each maximum.
  const size = Math.min(req.pageSize || limits.defaultSize, limits.maxSize);
  const query = queryOf(req);
  const after = req.pageToken ? decodeToken(req.pageToken, query) : undefined;
  const start = after === undefined ? 0 : sorted.findIndex((item) => keyOf(item) > after);
  const from = start === -1 ? sorted.length : start;
  const items = sorted.slice(from, from + size);
  const more = from + size < sorted.length;
  return { items, nextPageToken: more ? Buffer.from(`${query}:${keyOf(items[items.length - 1]!)}`).toString("base64url") : "" };
}

/** The request's fields other than paging ones (the filters, and which list it is by their names), digested. */
function queryOf(req: object): string {
  const filters = Object.entries(req).filter(([field]) => field !== "pageSize" && field !== "pageToken");
  return createHash("sha256").update(JSON.stringify(filters)).digest("base64url").slice(0, 16);
}

function decodeToken(token: string, query: string): string {
  const text = Buffer.from(token, "base64url").toString("utf8");
  const issued = Buffer.from(text).toString("base64url") === token;
  if (!issued || !text.startsWith(`${query}:`) || text.length === query.length + 1) {
    const description = issued && text.includes(":") ? "belongs to a request with other filters" : "is not a token this service issued";
    throw new InvalidArgumentError(`page_token ${description}`, [{ field: "page_token", description }]);
  }
  return text.slice(query.length + 1);
}
