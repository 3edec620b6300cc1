import { FieldErrors, FieldPath } from "../common/field-path.js";

/**
 * Reads untyped YAML values field by field, recording every problem with its
 * path instead of stopping at the first, and reporting keys nobody asked for.
 */
export class ConfigReader {
  constructor(readonly errors: FieldErrors = new FieldErrors()) {}

  /** A mapping with exactly the given keys allowed; undefined when absent or wrong. */
  object(value: unknown, path: FieldPath, allowed: readonly string[]): Record<string, unknown> | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) {
      this.errors.add(path, `must be a mapping, got ${describe(value)}`);
      return undefined;
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!allowed.includes(key)) {
        this.errors.add(path.child(key), `unknown key (allowed: ${allowed.join(", ")})`);
      }
    }
    return record;
  }

  list(value: unknown, path: FieldPath): unknown[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) {
      this.errors.add(path, `must be a list, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  string(value: unknown, path: FieldPath, opts: { required?: boolean } = {}): string | undefined {
    if (value === undefined || value === null || value === "") {
      if (opts.required) this.errors.add(path, "is required");
      return undefined;
    }
    if (typeof value !== "string") {
      this.errors.add(path, `must be a string, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  boolean(value: unknown, path: FieldPath): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "boolean") {
      this.errors.add(path, `must be true or false, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  integer(value: unknown, path: FieldPath, range: { min: number; max: number }): number | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value)) {
      this.errors.add(path, `must be a whole number, got ${describe(value)}`);
      return undefined;
    }
    if (value < range.min || value > range.max) {
      this.errors.add(path, `must be between ${range.min} and ${range.max}, got ${value}`);
      return undefined;
    }
    return value;
  }

  /** A list of non-empty strings, each checked by `check`, without duplicates. */
  stringList(
    value: unknown,
    path: FieldPath,
    check?: (item: string) => string | undefined,
  ): string[] | undefined {
    const items = this.list(value, path);
    if (items === undefined) return undefined;
    if (items.length === 0) {
      this.errors.add(path, "must not be empty when given");
      return undefined;
    }
    const seen = new Set<string>();
    const out: string[] = [];
    items.forEach((item, i) => {
      const s = this.string(item, path.index(i), { required: true });
      if (s === undefined) return;
      const problem = check?.(s);
      if (problem) this.errors.add(path.index(i), problem);
      else if (seen.has(s)) this.errors.add(path.index(i), `duplicate entry "${s}"`);
      else {
        seen.add(s);
        out.push(s);
      }
    });
    return out;
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `"${value}"`;
  return String(value);
}
