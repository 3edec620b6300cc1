import v3Documents from "./generated/openapi-v3.json" with { type: "json" };
import { isObject, type Json } from "./json.js";
import { goFields } from "./protobuf/generated/go-fields.js";

/** A schema of a kind's OpenAPI v3 document (the served one, of the pinned release), with the document its references resolve in. */
export interface TypeRef {
  doc: Json;
  schema: Json;
}

/** A type as structured-merge-diff sees it: atomic maps and lists, and scalars, are leaves. */
export type Shape =
  | { kind: "leaf" }
  | { kind: "struct"; fields: (name: string) => TypeRef | undefined }
  | { kind: "map"; element: TypeRef }
  | { kind: "list"; items: TypeRef; keys?: string[] };

const kinds = new Map<string, TypeRef>();

/** The type of a served kind, e.g. `v1` `Pod`. */
export function kindType(apiVersion: string, kind: string): TypeRef {
  const known = kinds.get(`${apiVersion}/${kind}`);
  if (known) return known;
  const doc = (v3Documents as Record<string, Json>)[apiVersion.includes("/") ? `apis/${apiVersion}` : `api/${apiVersion}`];
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["core", apiVersion];
  const name = `io.k8s.api.${group}.${version}.${kind}`;
  if (!doc?.components?.schemas?.[name]) throw new Error(`no OpenAPI schema for ${apiVersion} ${kind}`);
  const type = { doc, schema: { $ref: `#/components/schemas/${name}` } };
  kinds.set(`${apiVersion}/${kind}`, type);
  return type;
}

interface Resolved {
  shape: Shape;
  /** The Go type's name in the generated facts (`k8s.io.api.core.v1.PodSpec`), for a struct. */
  goName?: string;
  /** A struct's fields, by JSON name. */
  properties?: Record<string, Json>;
  /** Whether the JSON value is a map or a list, atomic or not (Go's omitempty leaves such a value out when empty). */
  collection: boolean;
}

const resolved = new WeakMap<Json, Resolved>();

function resolve({ doc, schema }: TypeRef): Resolved {
  const known = resolved.get(schema);
  if (known) return known;
  const ref: string | undefined = schema.$ref ?? schema.allOf?.[0]?.$ref;
  const name = ref?.slice("#/components/schemas/".length);
  const s = name ? doc.components.schemas[name] : schema;
  const collection = s.type === "array" || (s.additionalProperties !== undefined && !s.properties);
  let shape: Shape = { kind: "leaf" };
  if (s["x-kubernetes-int-or-string"] || s["x-kubernetes-map-type"] === "atomic") shape = { kind: "leaf" };
  else if (s.type === "array") {
    const listType = s["x-kubernetes-list-type"];
    if (listType === "map") shape = { kind: "list", items: { doc, schema: s.items }, keys: s["x-kubernetes-list-map-keys"] };
    else if (listType === "set") shape = { kind: "list", items: { doc, schema: s.items } };
  } else if (s.properties) {
    shape = { kind: "struct", fields: (field) => (s.properties[field] ? { doc, schema: s.properties[field] } : undefined) };
  } else if (s.additionalProperties) shape = { kind: "map", element: { doc, schema: s.additionalProperties } };
  const out: Resolved = { shape, collection, properties: s.properties, goName: name?.replace(/^io\.k8s\./, "k8s.io.") };
  resolved.set(schema, out);
  return out;
}

export function shapeOf(type: TypeRef | undefined): Shape {
  return type ? resolve(type).shape : { kind: "leaf" };
}

/** Per Go type, the JSON names of its fields with a fact: written as null when nil (slices and maps without omitempty, zero Times), or left out when zero (omitempty scalars). */
const factsOf = (fact: "null" | "omitEmpty") =>
  new Map<string, Set<string>>(Object.entries(goFields).map(([type, fields]) => [type, new Set(Object.entries(fields).filter(([, f]) => f[fact]).map(([name, f]) => f.json ?? name))]));
const nullFields = factsOf("null");
const omittedWhenZero = factsOf("omitEmpty");

/**
 * A JSON object as Go's unstructured converter writes the typed object it
 * decodes to: every non-pointer struct field present (as `{}` at least),
 * every nil field without omitempty as null, every non-pointer scalar without
 * omitempty as its zero value (OpenAPI gives non-pointers a zero `default`),
 * and no empty map or list where omitempty leaves it out.
 */
export function goForm(type: TypeRef, value: Json): Json {
  return walk(type, value, true);
}

/**
 * An object as kube-apiserver stores it: an empty map or list that Go's
 * omitempty leaves out (labels `{}`, `imagePullSecrets: []`) is gone, as the
 * round trip through the Go type and etcd drops it.
 */
export function storedForm(type: TypeRef, value: Json): Json {
  return walk(type, value, false);
}

function walk(type: TypeRef, value: Json, zeroes: boolean): Json {
  if (value === null || typeof value !== "object") return value;
  const { shape, goName, properties } = resolve(type);
  if (Array.isArray(value)) return shape.kind === "list" ? value.map((item) => walk(shape.items, item, zeroes)) : value;
  if (shape.kind === "map") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(shape.element, v, zeroes)]));
  if (shape.kind !== "struct") return value;
  const nulls = nullFields.get(goName!);
  const omitted = omittedWhenZero.get(goName!);
  const out: Json = {};
  for (const [name, v] of Object.entries(value)) {
    const field = shape.fields(name);
    if (!field) {
      out[name] = v;
      continue;
    }
    const empty = typeof v === "object" && v !== null && Object.keys(v).length === 0;
    if (empty && resolve(field).collection && !nulls?.has(name)) continue;
    out[name] = walk(field, v, zeroes);
  }
  if (!zeroes) return out;
  for (const [name, property] of Object.entries(properties ?? {})) {
    if (out[name] !== undefined || value[name] !== undefined) continue;
    const field = { doc: type.doc, schema: property };
    if (nulls?.has(name)) out[name] = null;
    else if (isObject(property.default) && shapeOf(field).kind === "struct") out[name] = walk(field, {}, zeroes);
    else if ((property.default === "" || property.default === 0 || property.default === false) && !omitted?.has(name)) out[name] = property.default;
  }
  return out;
}
