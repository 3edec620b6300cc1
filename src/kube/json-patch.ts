/**
 * RFC 6902 operations: client-node 1.x sends patches as
 * `application/json-patch+json` unless told otherwise.
 */
export type JsonPatch = ({ op: "add" | "replace" | "test"; path: string; value: unknown } | { op: "remove"; path: string })[];

/** A JSON pointer segment: `/` and `~` in keys (label names have `/`) are escaped. */
export function pointer(...segments: string[]): string {
  return segments.map((s) => "/" + s.replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}
