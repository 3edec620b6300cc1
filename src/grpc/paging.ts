import { InvalidArgumentError } from "../core/errors.js";

/**
 * Pages through items sorted by a unique key. The token is the last key
 * served, so paging stays stable when items are added or removed between
 * calls. Tokens are opaque to callers (base64url).
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
  const size = Math.min(req.pageSize || limits.defaultSize, limits.maxSize);
  const after = req.pageToken ? decodeToken(req.pageToken) : undefined;
  const start = after === undefined ? 0 : sorted.findIndex((item) => keyOf(item) > after);
  const from = start === -1 ? sorted.length : start;
  const items = sorted.slice(from, from + size);
  const more = from + size < sorted.length;
  return { items, nextPageToken: more ? Buffer.from(keyOf(items[items.length - 1]!)).toString("base64url") : "" };
}

function decodeToken(token: string): string {
  const key = Buffer.from(token, "base64url").toString("utf8");
  if (key === "" || Buffer.from(key).toString("base64url") !== token) {
    throw new InvalidArgumentError("page_token is not a token this service issued", [
      { field: "page_token", description: "is not a token this service issued" },
    ]);
  }
  return key;
}
