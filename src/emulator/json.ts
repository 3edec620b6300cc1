/** Any JSON value as the emulator handles bodies and objects. */
export type Json = any;

/** A JSON object: not null, not an array. */
export function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
