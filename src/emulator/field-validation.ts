import v3Documents from "./generated/openapi-v3.json" with { type: "json" };
import type { ResourceType } from "./resources.js";
import { badRequest, StatusError } from "./status.js";

type Json = Record<string, any>;
type Schema = Json;

const directives = ["", "Ignore", "Strict", "Warn"];

/**
 * Server-side field validation of a create or update body, as kube-apiserver's
 * strict decoding does it against the kind's Go type (here: its OpenAPI
 * schema, taken from the same release): a field the type does not have is
 * dropped, and with `fieldValidation=Strict` the request is refused naming
 * every such field. Returns the body without them.
 */
export function decodeFields(type: ResourceType, subresource: string | undefined, body: Json, query: URLSearchParams, options: "CreateOptions" | "UpdateOptions"): Json {
  const directive = query.get("fieldValidation") ?? "";
  if (!directives.includes(directive)) throw unsupportedDirective(options, directive);
  const [apiVersion, kind] = subresource === "scale" ? ["autoscaling/v1", "Scale"] : [type.apiVersion, type.kind];
  const schema = schemaOf(type.apiVersion, apiVersion, kind);
  const unknown: string[] = [];
  walk(schema.doc, schema.schema, body, "", unknown);
  if (directive === "Strict" && unknown.length > 0) {
    const version = apiVersion.split("/").pop();
    throw badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(", ")}`);
  }
  return body;
}

/** Records and removes, depth first in document order, the fields of `value` that `schema` does not have. */
function walk(doc: Json, schema: Schema, value: unknown, path: string, unknown: string[]): void {
  schema = resolve(doc, schema);
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, i) => walk(doc, schema.items, item, `${path}[${i}]`, unknown));
    return;
  }
  if (value === null || typeof value !== "object" || schema["x-kubernetes-preserve-unknown-fields"]) return;
  const object = value as Json;
  if (schema.properties) {
    for (const key of Object.keys(object)) {
      const field = path ? `${path}.${key}` : key;
      const property = schema.properties[key];
      if (property) walk(doc, property, object[key], field, unknown);
      else {
        unknown.push(field);
        delete object[key];
      }
    }
  } else if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
    for (const key of Object.keys(object)) walk(doc, schema.additionalProperties, object[key], `${path}[${key}]`, unknown);
  }
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
  return new StatusError({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: `${options}.meta.k8s.io "" is invalid: fieldValidation: ${message}`,
    reason: "Invalid",
    details: { group: "meta.k8s.io", kind: options, causes: [{ reason: "FieldValueNotSupported", message, field: "fieldValidation" }] },
    code: 422,
  });
}
