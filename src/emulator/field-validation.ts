import v3Documents from "./generated/openapi-v3.json" with { type: "json" };
import type { ResourceType } from "./resources.js";
import { badRequest, failure, type StatusError } from "./status.js";

type Json = Record<string, any>;
type Schema = Json;

const directives = ["", "Ignore", "Strict", "Warn"];

/**
 * Server-side field validation of a create or update body, as kube-apiserver's
 * strict decoding does it against the kind's Go type (here: its OpenAPI
 * schema, taken from the same release): a field the type does not have is
 * dropped, and with `fieldValidation=Strict` the request is refused naming
 * every such field in document order. Returns the body without them.
 */
export function decodeFields(type: ResourceType, subresource: string | undefined, body: Json, query: URLSearchParams, options: "CreateOptions" | "UpdateOptions"): Json {
  const directive = directiveOf(query, options);
  const { kind, unknown } = unknownFields(type, subresource, body, (o) => Object.keys(o));
  if (directive === "Strict" && unknown.length > 0) {
    throw badRequest(`${kind.name} in version "${kind.version}" cannot be handled as a ${kind.name}: ${strictDecodingError(unknown)}`);
  }
  return body;
}

/**
 * The same for the result of a PATCH, as the unstructured converter reports
 * it (keys in sorted order), in the Invalid Status kube-apiserver answers: for
 * a strategic merge patch the patch itself is quoted as Go prints the map;
 * for the other patch types the patched object is quoted as the emulator
 * stores it.
 */
export function decodePatched(type: ResourceType, subresource: string | undefined, patched: Json, patch: unknown, contentType: string, query: URLSearchParams): Json {
  const directive = directiveOf(query, "PatchOptions");
  const { unknown } = unknownFields(type, subresource, patched, (o) => Object.keys(o).sort());
  if (directive === "Strict" && unknown.length > 0) {
    const value = contentType.startsWith("application/strategic-merge-patch+json") ? goValue(patch) : JSON.stringify(patched);
    const message = `Invalid value: ${goQuote(value)}: ${strictDecodingError(unknown)}`;
    throw failure(422, "Invalid", ` "" is invalid: patch: ${message}`, { causes: [{ reason: "FieldValueInvalid", message, field: "patch" }] });
  }
  return patched;
}

/** The fieldValidation option, checked before anything else of the request as kube-apiserver decodes options first. */
export function directiveOf(query: URLSearchParams, options: "CreateOptions" | "UpdateOptions" | "PatchOptions"): string {
  const directive = query.get("fieldValidation") ?? "";
  if (!directives.includes(directive)) throw unsupportedDirective(options, directive);
  return directive;
}

function strictDecodingError(unknown: string[]): string {
  return `strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(", ")}`;
}

/** Finds and removes the fields of a body (the kind's, or a Scale for `scale`) that its schema does not have. */
function unknownFields(type: ResourceType, subresource: string | undefined, body: Json, keys: (o: Json) => string[]): { kind: { name: string; version: string }; unknown: string[] } {
  const [apiVersion, kind] = subresource === "scale" ? ["autoscaling/v1", "Scale"] : [type.apiVersion, type.kind];
  const { doc, schema } = schemaOf(type.apiVersion, apiVersion, kind);
  const unknown: string[] = [];
  walk(doc, schema, body, "", unknown, keys);
  return { kind: { name: kind, version: apiVersion.split("/").pop()! }, unknown };
}

/** Records and removes, depth first, the fields of `value` that `schema` does not have. */
function walk(doc: Json, schema: Schema, value: unknown, path: string, unknown: string[], keys: (o: Json) => string[]): void {
  schema = resolve(doc, schema);
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, i) => walk(doc, schema.items, item, `${path}[${i}]`, unknown, keys));
    return;
  }
  if (value === null || typeof value !== "object" || schema["x-kubernetes-preserve-unknown-fields"]) return;
  const object = value as Json;
  if (schema.properties) {
    for (const key of keys(object)) {
      const field = path ? `${path}.${key}` : key;
      const property = schema.properties[key];
      if (property) walk(doc, property, object[key], field, unknown, keys);
      else {
        unknown.push(field);
        delete object[key];
      }
    }
  } else if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
    for (const key of keys(object)) walk(doc, schema.additionalProperties, object[key], `${path}[${key}]`, unknown, keys);
  }
}

/** A decoded JSON value as Go's `%+v` prints it: maps with sorted keys, `<nil>`, floats in `%g`. */
function goValue(value: unknown): string {
  if (value === null || value === undefined) return "<nil>";
  if (Array.isArray(value)) return `[${value.map(goValue).join(" ")}]`;
  if (typeof value === "object") {
    const object = value as Json;
    return `map[${Object.keys(object)
      .sort()
      .map((k) => `${k}:${goValue(object[k])}`)
      .join(" ")}]`;
  }
  if (typeof value === "number" && !Number.isInteger(value)) {
    const [mantissa, exponent] = value.toExponential().split("e") as [string, string];
    const exp = Number(exponent);
    if (exp < -4 || exp >= 6) return `${mantissa}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return String(value);
}

/** Go's strconv.Quote. */
function goQuote(s: string): string {
  const named: Record<string, string> = { "\x07": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v" };
  const escaped = s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\p{C}]/gu, (c) => {
    if (named[c]) return named[c];
    const code = c.codePointAt(0)!;
    if (code < 0x80) return `\\x${code.toString(16).padStart(2, "0")}`;
    return code > 0xffff ? `\\U${code.toString(16).padStart(8, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
  return `"${escaped}"`;
}

/** Follows `$ref` and the `allOf: [{$ref}]` that kube-openapi wraps references with. */
function resolve(doc: Json, schema: Schema): Schema {
  const ref: string | undefined = schema.$ref ?? schema.allOf?.find((s: Schema) => s.$ref)?.$ref;
  if (!ref) return schema;
  return resolve(doc, doc.components.schemas[ref.slice("#/components/schemas/".length)]);
}

/** The schema of a kind, looked up by its x-kubernetes-group-version-kind in the document of the resource's group version. */
function schemaOf(resourceApiVersion: string, apiVersion: string, kind: string): { doc: Json; schema: Schema } {
  const doc = (v3Documents as Record<string, Json>)[resourceApiVersion === "v1" ? "api/v1" : `apis/${resourceApiVersion}`]!;
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const schema = Object.values(doc.components.schemas as Record<string, Schema>).find((s) =>
    (s["x-kubernetes-group-version-kind"] as Json[] | undefined)?.some((g) => g.group === group && g.version === version && g.kind === kind),
  );
  if (!schema) throw new Error(`no OpenAPI schema for ${apiVersion} ${kind}`);
  return { doc, schema };
}

function unsupportedDirective(options: string, value: string): StatusError {
  const supported = directives.map((d) => `"${d}"`).join(", ");
  const message = `Unsupported value: "${value}": supported values: ${supported}`;
  return failure(422, "Invalid", `${options}.meta.k8s.io "" is invalid: fieldValidation: ${message}`, {
    group: "meta.k8s.io",
    kind: options,
    causes: [{ reason: "FieldValueNotSupported", message, field: "fieldValidation" }],
  });
}
