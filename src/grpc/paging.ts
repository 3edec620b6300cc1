import { createHash } from "node:crypto";
import type { FieldErrors } from "../common/field-path.js";

/**
 * The largest answer or stream message kubedriver builds of several objects:
 * half of the 4 MiB every gRPC client receives by default. A page ends
 * before it; a larger stream batch is sent in parts.
 */
export const maxMessageBytes = 2 * 1024 * 1024;

/** At most this many items a page, and, when `bytes` is given, items of at most this size in all. */
export interface PageLimits<T> {
  defaultSize: number;
  maxSize: number;
  /** A page stops before the item that would take it past `max` (a page always holds one item, however large). */
  bytes?: { max: number; of: (item: T) => number };
}

/** A list request's paging fields, checked (before the list runs) and decoded. */
export interface PageRequest {
  size: number;
  /** The key after which the page starts; undefined: the first page. */
  after?: string;
  /** A digest of the request's other fields, carried in the tokens it issues. */
  query: string;
}

/**
 * Reads a list request's `page_size` and `page_token`, adding their problems
 * to the request's others. The token is the last key served, so paging stays
 * stable when items are added or removed between calls, and a digest of the
 * request's other fields, so that a token is only good for the query that
 * issued it (AIP-158). Tokens are opaque to callers (base64url). A size
 * above the maximum is coerced to it, not refused (AIP-158; the protos say
 * so, with each maximum).
 */
export function readPageRequest(req: { pageSize: number; pageToken: string }, limits: Pick<PageLimits<unknown>, "defaultSize" | "maxSize">, errors: FieldErrors): PageRequest {
  if (req.pageSize < 0) errors.add("page_size", "must not be negative");
  const query = queryOf(req);
  return {
    size: Math.min(Math.max(req.pageSize, 0) || limits.defaultSize, limits.maxSize),
    after: req.pageToken ? decodeToken(req.pageToken, query, errors) : undefined,
    query,
  };
}

/** One page of items sorted by a unique key, from where the request's token says, and the token of the next. */
export function pageOf<T>(sorted: readonly T[], keyOf: (item: T) => string, page: PageRequest, limits: PageLimits<T>): { items: T[]; nextPageToken: string } {
  const from = page.after === undefined ? 0 : firstAfter(sorted, keyOf, page.after);
  const end = limits.bytes ? fitting(sorted, from, Math.min(sorted.length, from + page.size), limits.bytes) : from + page.size;
  const items = sorted.slice(from, end);
  const more = end < sorted.length;
  return { items, nextPageToken: more ? Buffer.from(`${page.query}:${keyOf(items[items.length - 1]!)}`).toString("base64url") : "" };
}

/** Where a page from `from` ends, at `end` or before, so that its items' bytes stay within `bytes.max`. */
function fitting<T>(sorted: readonly T[], from: number, end: number, bytes: { max: number; of: (item: T) => number }): number {
  let total = 0;
  for (let i = from; i < end; i++) {
    total += bytes.of(sorted[i]!);
    if (total > bytes.max && i > from) return i;
  }
  return end;
}

/** The index of the first item whose key sorts after `key` (a binary search: lists run to thousands of items). */
function firstAfter<T>(sorted: readonly T[], keyOf: (item: T) => string, key: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (keyOf(sorted[mid]!) > key) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** The request's fields other than paging ones (the filters, and which list it is by their names), digested. */
function queryOf(req: object): string {
  const filters = Object.entries(req).filter(([field]) => field !== "pageSize" && field !== "pageToken");
  return createHash("sha256").update(JSON.stringify(filters)).digest("base64url").slice(0, 16);
}

function decodeToken(token: string, query: string, errors: FieldErrors): string | undefined {
  const text = Buffer.from(token, "base64url").toString("utf8");
  const issued = Buffer.from(text).toString("base64url") === token;
  if (!issued || !text.startsWith(`${query}:`) || text.length === query.length + 1) {
    errors.add("page_token", issued && text.includes(":") ? "belongs to a request with other filters" : "is not a token this service issued");
    return undefined;
  }
  return text.slice(query.length + 1);
}
